"""Request and response bodies of the REST API, as pydantic models.

Names are the proto's snake_case field names; enums are lower-case names;
times are RFC 3339 in UTC. Numbers are bounded to what the proto can carry,
so a value beyond int32 is a 422 naming the field rather than a failure
further down.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_LOG_READ_BYTES = 1024 * 1024

Priority = Literal["low", "normal", "high", "critical"]
TaskStatus = Literal[
    "pending",
    "waiting_for_dependencies",
    "running",
    "completed",
    "failed",
    "cancelled",
]
ProjectStatus = Literal["planning", "active", "on_hold", "completed", "cancelled"]
Condition = Literal["success", "failure", "completion"]


def _no_surrogates(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (it holds a lone surrogate)") from None
    return value


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of the range of representable times") from None


Text = Annotated[str, AfterValidator(_no_surrogates)]
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
Seconds = Annotated[float, Field(ge=0, le=INT32_MAX)]
Time = Annotated[datetime, AfterValidator(_in_utc)]


class _Input(BaseModel):
    # TODO: lax mode converts "10" and true into numbers; strict mode would
    # refuse them but also the RFC 3339 strings that times arrive as, so it
    # needs per-field strictness before it can be switched on.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Output(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests -------------------------------------------------------------


class DependencyIn(_Input):
    """Start only once ``task_id`` has ended as ``condition`` asks."""

    task_id: uuid.UUID
    condition: Condition = "success"


class TaskCreate(_Input):
    """The fields a client gives to create a task."""

    name: Annotated[Text, Field(min_length=1, max_length=256)]
    command: Text = Field(
        default="", description="Run as `/bin/sh -c command`; empty: tracking only."
    )
    description: Text = ""
    project_id: uuid.UUID | None = None
    priority: Priority = "normal"
    working_dir: Text | None = Field(
        default=None, description="Absolute path; empty or null: the server's own."
    )
    env: dict[Text, Text] = Field(default_factory=dict)
    timeout_seconds: Int32 = Field(default=0, description="0: no timeout.")
    tags: list[Text] = Field(default_factory=list)
    idempotency_key: Text | None = Field(
        default=None,
        description="Creating again with the same key returns the first task.",
    )
    depends_on: list[DependencyIn] = Field(default_factory=list)
    max_retries: Int32 = 0
    retry_delay_seconds: Seconds = 0.0
    start_after: Time | None = None
    development_workflow: bool = False


class TaskUpdate(_Input):
    """Changes to a pending task; absent or null fields keep their value."""

    name: Annotated[Text, Field(min_length=1, max_length=256)] | None = None
    command: Text | None = None
    description: Text | None = None
    priority: Priority | None = None
    working_dir: Text | None = None
    env: dict[Text, Text] | None = Field(
        default=None, description="Replaces the whole environment."
    )
    timeout_seconds: Int32 | None = None
    max_retries: Int32 | None = None
    retry_delay_seconds: Seconds | None = None
    tags: list[Text] | None = Field(default=None, description="Replaces the tags.")


class CancelRequest(_Input):
    """Why a task is cancelled; recorded in its history."""

    reason: Text = ""


class ProjectCreate(_Input):
    """The fields a client gives to create a project."""

    name: Annotated[Text, Field(min_length=1, max_length=256)]
    description: Text = ""
    status: ProjectStatus = "active"
    parent_id: uuid.UUID | None = None
    tags: list[Text] = Field(default_factory=list)
    max_parallel: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=0, description="0: only the global slot limit applies."
    )
    coverage_threshold: Annotated[float, Field(ge=0, le=100)] | None = Field(
        default=None, description="Not given: 90."
    )
    required_reviews: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None, description="Not given: 3."
    )


class ProjectUpdate(_Input):
    """Changes to a project; absent or null fields keep their value."""

    name: Annotated[Text, Field(min_length=1, max_length=256)] | None = None
    description: Text | None = None
    status: ProjectStatus | None = None
    parent_id: uuid.UUID | Literal[""] | None = Field(
        default=None, description='"": make it a top-level project.'
    )
    tags: list[Text] | None = Field(default=None, description="Replaces the tags.")
    max_parallel: Annotated[int, Field(ge=0, le=10_000)] | None = None
    coverage_threshold: Annotated[float, Field(ge=0, le=100)] | None = None
    required_reviews: Annotated[int, Field(ge=0, le=100)] | None = None


# -- responses ------------------------------------------------------------


class DependencyOut(_Output):
    """One edge of the dependency graph."""

    task_id: str
    condition: Condition


class Task(_Output):
    """A shell command with its scheduling attributes and its latest run."""

    id: str
    name: str
    command: str
    description: str
    project_id: str | None
    priority: Priority
    status: TaskStatus
    depends_on: list[DependencyOut]
    working_dir: str
    env: dict[str, str]
    timeout_seconds: int
    max_retries: int
    retry_delay_seconds: float
    start_after: datetime | None
    tags: list[str]
    idempotency_key: str | None
    attempt: int
    exit_code: int | None = Field(description="Null until a run has ended.")
    status_reason: str
    created_at: datetime | None
    updated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    development_workflow: bool
    pid: int = Field(description="Process group of the latest run; 0 before it.")


class TaskEvent(_Output):
    """One transition of a task; ``from_status`` is null on creation."""

    seq: int
    task_id: str
    from_status: TaskStatus | None
    to_status: TaskStatus
    reason: str
    at: datetime | None
    attempt: int
    exit_code: int | None
    project_id: str | None
    deleted: bool


class Project(_Output):
    """A group of tasks with shared limits."""

    id: str
    name: str
    description: str
    status: ProjectStatus
    parent_id: str | None
    tags: list[str]
    max_parallel: int
    coverage_threshold: float
    required_reviews: int
    created_at: datetime | None
    updated_at: datetime | None


class TaskDeleted(_Output):
    """Confirmation of a deleted task."""

    id: str
    deleted: Literal[True]


class ProjectDeleted(_Output):
    """Confirmation of a deleted project, with how many tasks went with it."""

    id: str
    deleted: Literal[True]
    deleted_tasks: int


class Stats(_Output):
    """Server-wide counters."""

    tasks_by_status: dict[str, int]
    total_tasks: int
    total_projects: int
    queue_depth: int = Field(description="Tasks ready to run, waiting for a slot.")
    running: int
    slots: int
    uptime_seconds: float
    version: str


class Health(_Output):
    """Liveness; version and uptime only for a caller with a valid key."""

    status: Literal["ok", "unavailable"]
    version: str | None = None
    uptime_seconds: float | None = None
