"""Request and response bodies of the REST API, as pydantic models.

Names are the proto's snake_case field names; enums are lower-case names;
times are RFC 3339 in UTC, and a time a client sends must carry its offset.
Numbers are bounded to what the proto can carry, so a value beyond int32 is a
422 naming the field rather than a failure further down.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

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
WorkflowStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
Condition = Literal["success", "failure", "completion"]
DevelopmentPhase = Literal[
    "planning",
    "implementation",
    "test_creation",
    "testing",
    "ai_review",
    "completed",
    "failed",
]
ReviewType = Literal[
    "code_quality",
    "security",
    "performance",
    "documentation",
    "testing",
    "architecture",
]


def _no_surrogates(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (it holds a lone surrogate)") from None
    return value


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        # Whose local time it is cannot be known: the client must say.
        raise ValueError(
            "must carry a UTC offset, e.g. 2026-12-04T16:00:00Z or "
            "2026-12-04T17:00:00+01:00"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of the range of representable times") from None


Text = Annotated[str, AfterValidator(_no_surrogates)]
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
Seconds = Annotated[float, Field(ge=0, le=INT32_MAX)]
Time = Annotated[
    datetime,
    AfterValidator(_in_utc),
    Field(description="RFC 3339 with an offset (`Z` or `±hh:mm`)."),
]
Name = Annotated[Text, Field(min_length=1, max_length=256)]


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


class TaskFields(_Input):
    """The fields of a task spec, shared by POST /tasks and workflow tasks."""

    name: Name | None = None
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
    max_retries: Int32 = Field(
        default=0, description="Failed runs retried automatically; 0: none."
    )
    retry_delay_seconds: Seconds = Field(
        default=0.0, description="Wait before an automatic retry."
    )
    start_after: Time | None = Field(
        default=None, description="Not started before this time (with an offset)."
    )
    development_workflow: bool = Field(
        default=False,
        description="Put the task under the gated development workflow "
        "(see /tasks/{id}/workflow).",
    )


class TaskCreate(TaskFields):
    """The fields a client gives to create a task."""

    name: Name
    depends_on: list[DependencyIn] = Field(
        default_factory=list,
        description="Start only once each of these tasks ended as its condition asks.",
    )


class WorkflowKeyDependencyIn(_Input):
    """An edge to another task of the same workflow, by its key."""

    key: Annotated[Text, Field(min_length=1)]
    condition: Condition = "success"


class WorkflowDependencyIn(_Input):
    """One dependency of a workflow task: a key, ``{key, condition}`` or
    ``{task_id, condition}`` (a task outside the workflow)."""

    key: Annotated[Text, Field(min_length=1)] | None = None
    task_id: uuid.UUID | None = None
    condition: Condition = "success"

    @model_validator(mode="before")
    @classmethod
    def _bare_key(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"key": value}
        if not isinstance(value, dict | WorkflowDependencyIn):
            # Not TypeError: pydantic reports only these as a 422.
            raise PydanticCustomError(
                "dependency_type",
                "must be a key, or an object with key or task_id and a condition",
            )
        return value

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.key is None) == (self.task_id is None):
            raise ValueError(
                "must name either a key of this workflow or a task_id, not "
                + ("both" if self.key is not None else "neither")
            )
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Describe the three forms an entry may take."""
        return {
            "oneOf": [
                {
                    "type": "string",
                    "minLength": 1,
                    "description": "The key of a task of this workflow (success).",
                },
                handler(WorkflowKeyDependencyIn.__pydantic_core_schema__),
                handler(DependencyIn.__pydantic_core_schema__),
            ],
            "description": (
                "A key of this workflow (`success` edge), `{key, condition}`, "
                "or `{task_id, condition}` for a task outside the workflow."
            ),
        }


class WorkflowTaskIn(TaskFields):
    """A task of a workflow: every field of POST /tasks, a key and its edges."""

    key: Annotated[Text, Field(min_length=1)] = Field(
        description="Unique within the workflow; what depends_on entries name."
    )
    name: Name | None = Field(default=None, description="Not given: the key.")
    depends_on: list[WorkflowDependencyIn] = Field(default_factory=list)


class WorkflowCreate(_Input):
    """A named group of tasks and their edges, created in one atomic write."""

    name: Name
    description: Text = ""
    project_id: uuid.UUID | None = Field(
        default=None, description="Also the project of tasks that name none."
    )
    tasks: list[WorkflowTaskIn] = Field(
        description="At most 10,000 tasks whose edges form a DAG."
    )


class TaskUpdate(_Input):
    """Changes to a task that has not started.

    Absent or null fields keep their value, except ``"start_after": null``,
    which removes a delayed start.
    """

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
    depends_on: list[DependencyIn] | None = Field(
        default=None, description="Replaces the dependencies; [] removes them."
    )
    start_after: Time | None = Field(
        default=None, description="A delayed start; null removes it (absent: kept)."
    )


class AdvanceRequest(_Input):
    """Optional guard of an advance: the phase the task must be in."""

    from_phase: DevelopmentPhase | None = None


class CancelRequest(_Input):
    """Why a task or workflow is cancelled; recorded in the history."""

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


class DocumentationIn(_Input):
    """Where the task's technical documentation is; planning's gate."""

    path: Annotated[Text, Field(min_length=1, max_length=4096)] = Field(
        validation_alias=AliasChoices("path", "doc_path"),
        description="A path or URL; `doc_path` is accepted as another name.",
    )


class CoverageIn(_Input):
    """The test coverage measured in the testing phase."""

    coverage: Annotated[float, Field(ge=0, le=100)] = Field(
        validation_alias=AliasChoices("coverage", "coverage_percentage"),
        description="Percent, 0 to 100; `coverage_percentage` is accepted "
        "as another name.",
    )


class ReviewIn(_Input):
    """One AI model's review of the task, in the ai_review phase."""

    model_name: Name = Field(
        description="Approvals count once per distinct model in a round."
    )
    review_type: ReviewType
    content: Text = ""
    score: Annotated[float, Field(ge=0, le=1)] = Field(description="0 to 1.")
    approved: bool = Field(
        description="false sends the task back to implementation, in a new round."
    )
    suggestions: list[Text] = Field(default_factory=list)


class FailIn(_Input):
    """Why the development workflow is given up."""

    reason: Text = Field(default="", description='Empty: "failed by request".')


# -- responses ------------------------------------------------------------


class DependencyOut(_Output):
    """One edge of the dependency graph."""

    task_id: str
    condition: Condition


class AiReview(_Output):
    """One AI model's review, in the round it was given in."""

    model_name: str
    review_type: ReviewType | None = Field(description="null if not given.")
    content: str
    score: float
    approved: bool
    suggestions: list[str]
    round: int = Field(description="The review round; a rejection opens the next.")
    created_at: datetime | None


class TestRun(_Output):
    """The run of the task's command that entering testing started."""

    attempt: int = Field(description="The task's attempt number of that run.")
    running: bool
    exit_code: int | None = Field(description="Null until the run has ended.")
    started_at: datetime | None
    finished_at: datetime | None


class DevelopmentWorkflow(_Output):
    """A task's gated development workflow and what to do next."""

    task_id: str
    phase: DevelopmentPhase
    technical_documentation_path: str
    test_coverage_percentage: float | None = Field(
        description="Null until reported in this round."
    )
    ai_review_reports: list[AiReview] = Field(
        description="Every review of every round, oldest first."
    )
    review_round: int
    test_run: TestRun | None = Field(
        description="Null while no run of the command has started."
    )
    started_at: datetime | None
    completed_at: datetime | None
    coverage_threshold: float = Field(
        description="Coverage needed to leave testing (the project's)."
    )
    required_reviews: int = Field(
        description="Approving distinct models needed to leave ai_review."
    )
    instructions: str = Field(description="What to do in the current phase.")
    next_call: str = Field(
        description="The MCP tool that makes progress now; empty when done."
    )
    unmet_gates: list[str] = Field(
        description="Why advancing would be refused now; empty when it would not."
    )
    failure_reason: str


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
    blocked_by: str = Field(
        description="While the task waits, why it is not running yet; else empty."
    )
    workflow_id: str | None = Field(description="The workflow it was created in.")
    retry_at: datetime | None = Field(
        description="When an automatic retry of a failed run may start."
    )
    development: DevelopmentWorkflow | None = Field(
        description="The development workflow; null unless development_workflow."
    )


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
    tasks_by_status: dict[str, int] = Field(
        description="The project's tasks per lower-case status, zeros included."
    )


class TaskDeleted(_Output):
    """Confirmation of a deleted task, with every task deleted with it."""

    id: str
    deleted: Literal[True]
    deleted_ids: list[str] = Field(
        description="Every task deleted, this one first (more with cascade=true)."
    )


class ProjectDeleted(_Output):
    """Confirmation of a deleted project, with how many tasks went with it."""

    id: str
    deleted: Literal[True]
    deleted_tasks: int


class ActivityMinute(_Output):
    """Tasks that reached a final status during one minute."""

    start: datetime | None
    completed: int
    failed: int
    cancelled: int


class Activity(_Output):
    """Finishes per minute over the last hour and the latest task events."""

    minutes: list[ActivityMinute] = Field(
        description="The last 60 minutes, oldest first; the last is the current one."
    )
    recent_events: list[TaskEvent] = Field(description="Newest first.")
    since: datetime | None = Field(
        description="The server's start: activity is kept in memory from then."
    )


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
    paused: bool = Field(description="True while the queue dispatches nothing.")


class QueueState(_Output):
    """Whether the queue is paused: running tasks go on, nothing new starts."""

    paused: bool


class WorkflowProgress(_Output):
    """How many of a workflow's tasks are in each status."""

    total: int
    pending: int
    waiting_for_dependencies: int
    running: int
    completed: int
    failed: int
    cancelled: int


class WorkflowSummary(_Output):
    """A workflow as listed: status and progress, without tasks and edges."""

    id: str
    name: str
    description: str
    project_id: str | None
    status: WorkflowStatus
    progress: WorkflowProgress
    created_at: datetime | None


class WorkflowTask(_Output):
    """A task of a workflow with its key."""

    key: str
    task: Task


class WorkflowEdge(_Output):
    """Between two tasks of the workflow: source must end as condition asks
    before target may start."""

    source_key: str
    target_key: str
    source_task_id: str
    target_task_id: str
    condition: Condition


class Workflow(WorkflowSummary):
    """A workflow with its tasks (in the order given) and the edges between them.

    An edge to a task outside the workflow shows in that task's depends_on.
    """

    tasks: list[WorkflowTask]
    edges: list[WorkflowEdge]


class TaskOutline(_Output):
    """The fields of a task that GET /workflows/{id}?view=basic returns."""

    id: str
    name: str
    project_id: str | None
    status: TaskStatus
    status_reason: str
    attempt: int
    exit_code: int | None
    started_at: datetime | None
    finished_at: datetime | None
    blocked_by: str


class WorkflowTaskOutline(_Output):
    """An outlined task of a workflow with its key."""

    key: str
    task: TaskOutline


class WorkflowEdgeOutline(_Output):
    """An edge by key: source must end as condition asks before target starts."""

    source_key: str
    target_key: str
    condition: Condition


class WorkflowOutline(WorkflowSummary):
    """A workflow with its tasks outlined and its edges by key (view=basic)."""

    tasks: list[WorkflowTaskOutline]
    edges: list[WorkflowEdgeOutline]


class Health(_Output):
    """Liveness; version and uptime only for a caller with a valid key."""

    status: Literal["ok", "unavailable"]
    version: str | None = None
    uptime_seconds: float | None = None
