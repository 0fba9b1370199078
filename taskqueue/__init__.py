"""Python SDK of the task queue: a gRPC client, typed models and errors.

    from taskqueue import TaskQueueClient

    with TaskQueueClient("http://localhost:16080") as client:
        task = client.create_task(name="hello", command="echo hello")
        print(client.wait(task.id, timeout=30).status)  # completed

See docs/sdk.md: every call, iterators over pages, streams, the development
workflow, errors, timeouts and retries.

Importing this package loads only the client side; the server is assembled
by ``task-queue serve``.
"""

from taskqueue.aio import AsyncTaskQueueClient
from taskqueue.client import TaskQueueClient
from taskqueue.errors import (
    AuthenticationError,
    ConflictError,
    ConnectionError,
    InvalidProjectIdError,
    InvalidTaskIdError,
    InvalidWorkflowIdError,
    NotFoundError,
    ProjectNotFoundError,
    TaskNotFoundError,
    TaskQueueError,
    ValidationError,
)
from taskqueue.models import (
    Activity,
    ActivityMinute,
    AiReview,
    Dependency,
    DevelopmentWorkflow,
    Ping,
    Project,
    Stats,
    Task,
    TaskEvent,
    TestRun,
    Workflow,
    WorkflowEdge,
    WorkflowProgress,
    WorkflowTask,
)

__all__ = [
    "Activity",
    "ActivityMinute",
    "AiReview",
    "AsyncTaskQueueClient",
    "AuthenticationError",
    "ConflictError",
    "ConnectionError",
    "Dependency",
    "DevelopmentWorkflow",
    "InvalidProjectIdError",
    "InvalidTaskIdError",
    "InvalidWorkflowIdError",
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
    "TestRun",
    "ValidationError",
    "Workflow",
    "WorkflowEdge",
    "WorkflowProgress",
    "WorkflowTask",
]
