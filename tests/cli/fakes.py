"""Stand-ins for the SDK client and its records; they need no server."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from taskqueue.models import (
    Stats,
    Task,
    Workflow,
    WorkflowEdge,
    WorkflowProgress,
    WorkflowTask,
)

TASK_ID = "3f2a9c4e-1b7d-4e8a-9f00-123456789abc"
WORKFLOW_ID = "8d1e5b7a-0c2f-4a6b-9e3d-fedcba987654"
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_task(**changes: Any) -> Task:
    """Return a pending task record; ``changes`` override its fields."""
    fields: dict[str, Any] = {
        "id": TASK_ID,
        "name": "build",
        "command": "make all",
        "description": "",
        "project_id": None,
        "workflow_id": None,
        "priority": "normal",
        "status": "pending",
        "blocked_by": "",
        "depends_on": (),
        "working_dir": "/srv",
        "env": {},
        "timeout_seconds": 0,
        "max_retries": 0,
        "retry_delay_seconds": 0.0,
        "start_after": None,
        "retry_at": None,
        "tags": (),
        "idempotency_key": None,
        "attempt": 0,
        "exit_code": None,
        "status_reason": "",
        "created_at": CREATED,
        "updated_at": CREATED,
        "started_at": None,
        "finished_at": None,
        "development_workflow": False,
        "pid": 0,
    }
    fields.update(changes)
    return Task(**fields)


def make_workflow(**changes: Any) -> Workflow:
    """Return a running two-task workflow (a, then b); ``changes`` override."""
    first = make_task(id="t-a", name="a", status="completed", exit_code=0)
    second = make_task(
        id="t-b",
        name="b",
        status="waiting_for_dependencies",
        blocked_by="waiting for dependency t-a (a) to complete; it is running",
    )
    fields: dict[str, Any] = {
        "id": WORKFLOW_ID,
        "name": "build",
        "description": "",
        "project_id": None,
        "status": "running",
        "progress": WorkflowProgress(2, 0, 1, 0, 1, 0, 0),
        "created_at": CREATED,
        "tasks": (WorkflowTask("a", first), WorkflowTask("b", second)),
        "edges": (WorkflowEdge("a", "b", "t-a", "t-b", "success"),),
    }
    fields.update(changes)
    return Workflow(**fields)


@dataclass
class FakeBackend:
    """What fake clients were made with, what they were asked, what they answer.

    ``answers`` maps a client method name to its result, to an exception
    the method raises, or to a function called with the method's arguments.
    """

    answers: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(
        default_factory=list
    )
    connections: list[dict[str, Any]] = field(default_factory=list)
    options: list[dict[str, Any]] = field(default_factory=list)

    def connect(
        self,
        url: str | None = None,
        *,
        timeout: float = 30,
        api_key: str | None = None,
        retries: int = 3,
    ) -> FakeClient:
        """Stand in for the TaskQueueClient constructor."""
        self.connections.append({"url": url, "api_key": api_key})
        self.options.append({"timeout": timeout, "retries": retries})
        return FakeClient(self)

    def last_call(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return the latest method call on any client."""
        return self.calls[-1]


class FakeClient:
    """Answer every method from the backend's script."""

    def __init__(self, backend: FakeBackend) -> None:
        self._backend = backend

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        def method(*args: Any, **kwargs: Any) -> Any:
            self._backend.calls.append((name, args, kwargs))
            answer = self._backend.answers.get(name, _default(name))
            if isinstance(answer, BaseException):
                raise answer
            if callable(answer):
                return answer(*args, **kwargs)
            return answer

        return method


def _default(name: str) -> Any:
    if name.startswith("list") or name == "task_history":
        return []
    if name == "stats":
        return Stats({}, 0, 0, 0, 0, 1, 0.0, "test")
    if name == "health":
        return "SERVING"
    if name == "delete_task":
        return [TASK_ID]
    if name in ("pause_queue", "resume_queue"):
        return name == "pause_queue"
    if "workflow" in name:
        return make_workflow()
    return make_task()
