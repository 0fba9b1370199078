"""Errors raised by the actors; every adapter maps them once, through a table.

    TaskQueueError
    ├── InvalidArgument      a field of a request is wrong   → INVALID_ARGUMENT
    ├── NotFound             an id names nothing             → NOT_FOUND
    │   ├── TaskNotFound
    │   └── ProjectNotFound
    ├── FailedPrecondition   legal request, wrong state      → FAILED_PRECONDITION
    │   └── IllegalTransition
    └── AlreadyExists        a unique name or key is taken   → ALREADY_EXISTS

Each message is a sentence a remote caller may read: it names the ids and
fields involved, never a path, a command or an environment value.
"""

from __future__ import annotations


class TaskQueueError(Exception):
    """Base of every anticipated error of the task queue."""


class InvalidArgument(TaskQueueError):
    """A request field has a value the server cannot accept."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message

    def within(self, prefix: str) -> InvalidArgument:
        """Return the same error for a field nested under prefix."""
        return InvalidArgument(f"{prefix}.{self.field}", self.reason)


class NotFound(TaskQueueError):
    """An id names no stored object."""


class TaskNotFound(NotFound):
    """No task has this id."""

    def __init__(self, task_id: str) -> None:
        super().__init__(f"Task {task_id} not found.")
        self.task_id = task_id


class ProjectNotFound(NotFound):
    """No project has this id."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"Project {project_id} not found.")
        self.project_id = project_id


class FailedPrecondition(TaskQueueError):
    """The request is well formed but the object's state forbids it."""


class IllegalTransition(FailedPrecondition):
    """A task cannot move from its status as asked."""

    def __init__(self, task_id: str, status: str, action: str, hint: str) -> None:
        super().__init__(f"Task {task_id} is {status}; cannot {action}. {hint}")
        self.task_id = task_id
        self.status = status


class AlreadyExists(TaskQueueError):
    """A unique key is already taken."""
