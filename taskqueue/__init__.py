"""Python SDK of the task queue: a gRPC client, typed models and errors.

    from taskqueue import TaskQueueClient

    with TaskQueueClient("http://localhost:16080") as client:
        task = client.create_task(name="hello", command="echo hello")
        print(client.wait(task.id).status)

Importing this package loads only the client side; the server is assembled
by ``task-queue serve``.
"""

from taskqueue.aio import AsyncTaskQueueClient
from taskqueue.client import TaskQueueClient
from taskqueue.errors import (
    AuthenticationError,
    ConflictError,
    ConnectionError,
    NotFoundError,
    ProjectNotFoundError,
    TaskNotFoundError,
    TaskQueueError,
    ValidationError,
)
from taskqueue.models import (
    Dependency,
    Ping,
    Project,
    Stats,
    Task,
    TaskEvent,
    Workflow,
    WorkflowEdge,
    WorkflowProgress,
    WorkflowTask,
)

__all__ = [
    "AsyncTaskQueueClient",
    "AuthenticationError",
    "ConflictError",
    "ConnectionError",
    "Dependency",
    "NotFoundError",
    "Ping",
    "Project",
    "ProjectNotFoundError",
    "Stats",
    "Task",
    "TaskEvent",
    "TaskNotFoundError",
    "TaskQueueClient",
    "TaskQueueError",
    "ValidationError",
    "Workflow",
    "WorkflowEdge",
    "WorkflowProgress",
    "WorkflowTask",
]
