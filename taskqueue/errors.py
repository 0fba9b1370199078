"""Errors the SDK raises; every gRPC status reaches the caller through one table.

    TaskQueueError              any other status (INTERNAL, UNIMPLEMENTED, …)
    ├── NotFoundError           NOT_FOUND of anything else ("Workflow <id> …")
    │   ├── TaskNotFoundError       "Task <id> not found."
    │   └── ProjectNotFoundError    "Project <id> not found."
    ├── ValidationError         INVALID_ARGUMENT, OUT_OF_RANGE; a bad server URL
    │                           or workflow document, a naive start_after
    │   (an id that is not a UUID names nothing: INVALID_ARGUMENT about the
    │   ``id`` of the object a call is about raises InvalidTaskIdError,
    │   InvalidProjectIdError or InvalidWorkflowIdError, which are both the
    │   matching NotFoundError and a ValidationError)
    ├── ConflictError           FAILED_PRECONDITION (e.g. deleting a task others
    │                           depend on), ALREADY_EXISTS, ABORTED
    ├── AuthenticationError     UNAUTHENTICATED, PERMISSION_DENIED
    └── ConnectionError         UNAVAILABLE, DEADLINE_EXCEEDED

The message of an error is the server's own sentence, except for the
connection errors, whose message names the address the client dialled.
"""

from __future__ import annotations

import re

import grpc


class TaskQueueError(Exception):
    """Base of every error the SDK raises for a failed call.

    Attributes:
        code: The gRPC status of the failed call, or None when the call
            never reached the network.
        details: The status details as received, before any rewording.
    """

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        details: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or message


class NotFoundError(TaskQueueError):
    """An id names nothing on the server (NOT_FOUND)."""

    _pattern = re.compile(r"^\w+ (?P<id>\S+) not found\.")

    @property
    def id(self) -> str | None:
        """Return the id the server named, when its message names one."""
        found = self._pattern.match(self.message) or MALFORMED_ID.match(self.details)
        return found["id"] if found else None


class TaskNotFoundError(NotFoundError):
    """No task has the id given (NOT_FOUND from a task call)."""


class ProjectNotFoundError(NotFoundError):
    """No project has the id given (NOT_FOUND naming a project)."""


class ValidationError(TaskQueueError, ValueError):
    """A request field, or the server URL, has a value that cannot be used."""


class InvalidTaskIdError(TaskNotFoundError, ValidationError):
    """The task id given is not a UUID, so no task has it (INVALID_ARGUMENT)."""


class InvalidProjectIdError(ProjectNotFoundError, ValidationError):
    """The project id given is not a UUID, so no project has it."""


class InvalidWorkflowIdError(NotFoundError, ValidationError):
    """The workflow id given is not a UUID, so no workflow has it."""


class ConflictError(TaskQueueError):
    """The request is legal but the object's state or a unique key forbids it."""


class AuthenticationError(TaskQueueError):
    """The server refused the API key, or none was given."""


class ConnectionError(TaskQueueError):
    """The server could not be reached or did not answer in time.

    Not the built-in ``ConnectionError``: import it from ``taskqueue``.
    """


STATUS_TO_ERROR: dict[grpc.StatusCode, type[TaskQueueError]] = {
    grpc.StatusCode.OK: TaskQueueError,
    grpc.StatusCode.CANCELLED: TaskQueueError,
    grpc.StatusCode.UNKNOWN: TaskQueueError,
    grpc.StatusCode.INVALID_ARGUMENT: ValidationError,
    grpc.StatusCode.DEADLINE_EXCEEDED: ConnectionError,
    grpc.StatusCode.NOT_FOUND: TaskNotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: ConflictError,
    grpc.StatusCode.PERMISSION_DENIED: AuthenticationError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TaskQueueError,
    grpc.StatusCode.FAILED_PRECONDITION: ConflictError,
    grpc.StatusCode.ABORTED: ConflictError,
    grpc.StatusCode.OUT_OF_RANGE: ValidationError,
    grpc.StatusCode.UNIMPLEMENTED: TaskQueueError,
    grpc.StatusCode.INTERNAL: TaskQueueError,
    grpc.StatusCode.UNAVAILABLE: ConnectionError,
    grpc.StatusCode.DATA_LOSS: TaskQueueError,
    grpc.StatusCode.UNAUTHENTICATED: AuthenticationError,
}


# The server's answer to an id that is not a UUID: "id: 'x' is not a UUID."
MALFORMED_ID = re.compile(
    r"^(?:id|task_id): (?P<quote>['\"])(?P<id>.*)(?P=quote) is not a UUID\.$"
)

# What a call is about -> the error for an id of it that is not a UUID.
MALFORMED_ID_ERRORS: dict[str, type[TaskQueueError]] = {
    "task": InvalidTaskIdError,
    "project": InvalidProjectIdError,
    "workflow": InvalidWorkflowIdError,
}


def error_class(
    code: grpc.StatusCode, details: str = "", subject: str | None = None
) -> type[TaskQueueError]:
    """Return the exception class for a status and its details.

    ``subject`` names what the call is about ("task", "project",
    "workflow"), so that an id of it which is not a UUID can be reported as
    that object not found; None for calls about no one object.
    """
    cls = STATUS_TO_ERROR.get(code, TaskQueueError)
    if (
        cls is ValidationError
        and subject in MALFORMED_ID_ERRORS
        and MALFORMED_ID.match(details)
    ):
        return MALFORMED_ID_ERRORS[subject]
    if cls is TaskNotFoundError and details.startswith("Project "):
        return ProjectNotFoundError
    if cls is TaskNotFoundError and details.startswith("Workflow "):
        return NotFoundError
    return cls


def from_rpc_error(
    error: grpc.RpcError, *, target: str, subject: str | None = None
) -> TaskQueueError:
    """Translate a failed gRPC call into the matching TaskQueueError.

    Args:
        error: The exception grpc raised; calls raise a ``grpc.Call`` too.
        target: The host:port dialled, named in connection errors.
        subject: What the call is about; see ``error_class``.
    """
    code = _code_of(error)
    details = _details_of(error) or code.name.lower().replace("_", " ")
    cls = error_class(code, details, subject)

    message = details
    if code is grpc.StatusCode.UNAVAILABLE:
        message = (
            f"cannot reach the task queue server at {target} "
            "(is it running? start it with `task-queue`)"
        )
    elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
        message = f"the task queue server at {target} did not answer in time"
    return cls(message, code=code, details=details)


def _code_of(error: grpc.RpcError) -> grpc.StatusCode:
    code = getattr(error, "code", None)
    found = code() if callable(code) else None
    return found if isinstance(found, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def _details_of(error: grpc.RpcError) -> str:
    details = getattr(error, "details", None)
    found = details() if callable(details) else None
    return found if isinstance(found, str) else ""
