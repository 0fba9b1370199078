"""Typed records the SDK returns, converted from the gRPC messages.

Enums travel as proto numbers and reach Python as lower-case names
(``"pending"``, ``"high"``, ``"on_hold"``); this module is the one place that
converts between the two. Timestamps are timezone-aware ``datetime`` values,
or None when the server left them unset.

The request builders at the end (``task_spec``, ``task_update``,
``workflow_create``, …) are shared by the sync and async clients, so both
check a caller's arguments, and read a workflow document, the same way.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypeVar, cast

from taskqueue.errors import ValidationError
from tq_grpc._gen import (
    common_pb2,
    development_pb2,
    projects_pb2,
    system_pb2,
    tasks_pb2,
    workflows_pb2,
)

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
    from google.protobuf.timestamp_pb2 import Timestamp

E = TypeVar("E", bound=int)


class EnumCodec(Generic[E]):
    """Convert one proto enum to lower-case names and back."""

    def __init__(self, wrapper: EnumTypeWrapper, prefix: str, field: str) -> None:
        self._wrapper = wrapper
        self._prefix = prefix
        self._field = field
        self.names: tuple[str, ...] = tuple(
            key.removeprefix(prefix).lower()
            for key in wrapper.keys()  # noqa: SIM118 - not a dict
            if not key.endswith("_UNSPECIFIED")
        )

    def to_proto(self, name: str, field: str | None = None) -> E:
        """Return the proto number of ``name``; raise ValidationError if unknown.

        ``field`` names the argument in the error (default: the codec's).
        """
        key = name.strip().lower().replace("-", "_") if isinstance(name, str) else ""
        if key not in self.names:
            choices = ", ".join(self.names)
            raise ValidationError(
                f"{field or self._field}: {name!r} is not one of {choices}."
            )
        return cast(E, self._wrapper.Value(self._prefix + key.upper()))

    def to_filter(self, name: str | None) -> E:
        """Return the proto number of ``name``, or UNSPECIFIED (0) for None."""
        return self.to_proto(name) if name else cast(E, 0)

    def from_proto(self, number: int) -> str:
        """Return the lower-case name of a proto number ("unspecified" for 0)."""
        try:
            return str(self._wrapper.Name(number)).removeprefix(self._prefix).lower()
        except ValueError:
            return str(number)


PRIORITY: EnumCodec[common_pb2.Priority] = EnumCodec(
    common_pb2.Priority, "PRIORITY_", "priority"
)
TASK_STATUS: EnumCodec[common_pb2.TaskStatus] = EnumCodec(
    common_pb2.TaskStatus, "TASK_STATUS_", "status"
)
PROJECT_STATUS: EnumCodec[common_pb2.ProjectStatus] = EnumCodec(
    common_pb2.ProjectStatus, "PROJECT_STATUS_", "status"
)
CONDITION: EnumCodec[tasks_pb2.DependencyCondition] = EnumCodec(
    tasks_pb2.DependencyCondition, "DEPENDENCY_CONDITION_", "condition"
)
WORKFLOW_STATUS: EnumCodec[workflows_pb2.WorkflowStatus] = EnumCodec(
    workflows_pb2.WorkflowStatus, "WORKFLOW_STATUS_", "status"
)
DEVELOPMENT_PHASE: EnumCodec[development_pb2.DevelopmentPhase] = EnumCodec(
    development_pb2.DevelopmentPhase, "DEVELOPMENT_PHASE_", "phase"
)
REVIEW_TYPE: EnumCodec[development_pb2.ReviewType] = EnumCodec(
    development_pb2.ReviewType, "REVIEW_TYPE_", "review_type"
)

PRIORITIES = PRIORITY.names
TASK_STATUSES = TASK_STATUS.names
PROJECT_STATUSES = PROJECT_STATUS.names
CONDITIONS = CONDITION.names
WORKFLOW_STATUSES = WORKFLOW_STATUS.names
DEVELOPMENT_PHASES = DEVELOPMENT_PHASE.names
REVIEW_TYPES = REVIEW_TYPE.names
FINISHED_STATUSES = ("completed", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class Dependency:
    """Start only once ``task_id`` has ended as ``condition`` asks.

    ``condition`` is "success" (the default), "failure" or "completion".
    """

    task_id: str
    condition: str = "success"

    @classmethod
    def from_proto(cls, message: tasks_pb2.Dependency) -> Self:
        """Build from a ``taskqueue.v1.Dependency``."""
        return cls(message.task_id, _condition_name(message.condition))


# What a caller may give as one dependency: a task id (success edge), a
# ``(task_id, condition)`` pair, a ``{"task_id", "condition"}`` mapping or a
# Dependency.
DependencyLike = str | Dependency | tuple[str, str] | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AiReview:
    """One AI model's review of a task under the development workflow.

    ``review_type`` is one of REVIEW_TYPES ("code_quality", "security", …);
    ``score`` runs from 0 to 1; ``round`` is the review round it belongs to.
    """

    model_name: str
    review_type: str
    content: str
    score: float
    approved: bool
    suggestions: tuple[str, ...]
    round: int
    created_at: datetime | None

    @classmethod
    def from_proto(cls, message: development_pb2.AiReview) -> Self:
        """Build from a ``taskqueue.v1.AiReview``."""
        return cls(
            model_name=message.model_name,
            review_type=REVIEW_TYPE.from_proto(message.review_type),
            content=message.content,
            score=message.score,
            approved=message.approved,
            suggestions=tuple(message.suggestions),
            round=message.round,
            created_at=_time(message, "created_at"),
        )


@dataclass(frozen=True, slots=True)
class TestRun:
    """The run of the task's command that entering ``testing`` started."""

    __test__ = False  # not a pytest test class, whatever its name says

    # The task's attempt number of that run; 0 while it has not started.
    attempt: int
    running: bool
    # Set once the run has ended.
    exit_code: int | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_proto(cls, message: development_pb2.TestRun) -> Self:
        """Build from a ``taskqueue.v1.TestRun``."""
        return cls(
            attempt=message.attempt,
            running=message.running,
            exit_code=message.exit_code if message.HasField("exit_code") else None,
            started_at=_time(message, "started_at"),
            finished_at=_time(message, "finished_at"),
        )


@dataclass(frozen=True, slots=True)
class DevelopmentWorkflow:
    """A task's gated development workflow and what to do next.

    ``phase`` is one of DEVELOPMENT_PHASES: planning, implementation,
    test_creation, testing, ai_review, then completed (or failed).
    ``instructions`` says what the current phase needs, ``next_call`` names
    the call that makes progress now (the server's MCP tool name, e.g.
    "set_technical_documentation", "advance_workflow_phase", "get_task" to
    wait for the test run; empty once ended) and ``unmet_gates`` why
    advancing would be refused now (empty when advance_phase would pass).
    """

    task_id: str
    phase: str
    technical_documentation_path: str | None
    test_coverage_percentage: float | None
    ai_review_reports: tuple[AiReview, ...]
    review_round: int
    # Set while in or after ``testing`` when the task has a command.
    test_run: TestRun | None
    started_at: datetime | None
    completed_at: datetime | None
    # The gates' thresholds, from the task's project (or the defaults).
    coverage_threshold: float
    required_reviews: int
    instructions: str
    next_call: str
    unmet_gates: tuple[str, ...]
    # Set in ``failed``: why.
    failure_reason: str

    @property
    def ended(self) -> bool:
        """Return True once the workflow is completed or failed."""
        return self.phase in ("completed", "failed")

    @property
    def approvals(self) -> tuple[str, ...]:
        """Return the distinct models that approved in the current round."""
        found = dict.fromkeys(
            review.model_name
            for review in self.ai_review_reports
            if review.approved and review.round == self.review_round
        )
        return tuple(found)

    @classmethod
    def from_proto(cls, message: development_pb2.DevelopmentWorkflow) -> Self:
        """Build from a ``taskqueue.v1.DevelopmentWorkflow``."""
        coverage = None
        if message.HasField("test_coverage_percentage"):
            coverage = message.test_coverage_percentage
        return cls(
            task_id=message.task_id,
            phase=DEVELOPMENT_PHASE.from_proto(message.phase),
            technical_documentation_path=message.technical_documentation_path or None,
            test_coverage_percentage=coverage,
            ai_review_reports=tuple(
                AiReview.from_proto(review) for review in message.ai_review_reports
            ),
            review_round=message.review_round,
            test_run=TestRun.from_proto(message.test_run)
            if message.HasField("test_run")
            else None,
            started_at=_time(message, "started_at"),
            completed_at=_time(message, "completed_at"),
            coverage_threshold=message.coverage_threshold,
            required_reviews=message.required_reviews,
            instructions=message.instructions,
            next_call=message.next_call,
            unmet_gates=tuple(message.unmet_gates),
            failure_reason=message.failure_reason,
        )


@dataclass(frozen=True, slots=True)
class Task:
    """A shell command with its scheduling attributes and its latest run."""

    id: str
    name: str
    command: str
    description: str
    project_id: str | None
    workflow_id: str | None
    priority: str
    status: str
    # While the task waits: why it is not running yet; empty otherwise.
    blocked_by: str
    depends_on: tuple[Dependency, ...]
    working_dir: str
    env: dict[str, str]
    timeout_seconds: int
    max_retries: int
    retry_delay_seconds: float
    start_after: datetime | None
    retry_at: datetime | None
    tags: tuple[str, ...]
    idempotency_key: str | None
    attempt: int
    exit_code: int | None
    status_reason: str
    created_at: datetime | None
    updated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    development_workflow: bool
    pid: int
    # The development workflow, with its guidance, when development_workflow.
    development: DevelopmentWorkflow | None = None

    @property
    def finished(self) -> bool:
        """Return True once the task is completed, failed or cancelled."""
        return self.status in FINISHED_STATUSES

    @classmethod
    def from_proto(cls, message: tasks_pb2.Task) -> Self:
        """Build from a ``taskqueue.v1.Task``."""
        return cls(
            id=message.id,
            name=message.name,
            command=message.command,
            description=message.description,
            project_id=message.project_id or None,
            workflow_id=message.workflow_id or None,
            priority=PRIORITY.from_proto(message.priority),
            status=TASK_STATUS.from_proto(message.status),
            blocked_by=message.blocked_by,
            depends_on=tuple(Dependency.from_proto(d) for d in message.depends_on),
            working_dir=message.working_dir,
            env=dict(message.env),
            timeout_seconds=message.timeout_seconds,
            max_retries=message.max_retries,
            retry_delay_seconds=message.retry_delay_seconds,
            start_after=_time(message, "start_after"),
            retry_at=_time(message, "retry_at"),
            tags=tuple(message.tags),
            idempotency_key=message.idempotency_key or None,
            attempt=message.attempt,
            exit_code=message.exit_code if message.HasField("exit_code") else None,
            status_reason=message.status_reason,
            created_at=_time(message, "created_at"),
            updated_at=_time(message, "updated_at"),
            started_at=_time(message, "started_at"),
            finished_at=_time(message, "finished_at"),
            development_workflow=message.development_workflow,
            pid=message.pid,
            development=DevelopmentWorkflow.from_proto(message.development)
            if message.HasField("development")
            else None,
        )


@dataclass(frozen=True, slots=True)
class Project:
    """A group of tasks with shared limits."""

    id: str
    name: str
    description: str
    status: str
    parent_id: str | None
    tags: tuple[str, ...]
    max_parallel: int
    coverage_threshold: float
    required_reviews: int
    created_at: datetime | None
    updated_at: datetime | None
    # The project's tasks per lower-case status, zeros included.
    tasks_by_status: dict[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_proto(cls, message: projects_pb2.Project) -> Self:
        """Build from a ``taskqueue.v1.Project``."""
        return cls(
            id=message.id,
            name=message.name,
            description=message.description,
            status=PROJECT_STATUS.from_proto(message.status),
            parent_id=message.parent_id or None,
            tags=tuple(message.tags),
            max_parallel=message.max_parallel,
            coverage_threshold=message.coverage_threshold,
            required_reviews=message.required_reviews,
            created_at=_time(message, "created_at"),
            updated_at=_time(message, "updated_at"),
            tasks_by_status=dict(message.tasks_by_status),
        )


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One transition in a task's history; ``from_status`` is None on creation."""

    seq: int
    task_id: str
    from_status: str | None
    to_status: str
    reason: str
    at: datetime | None
    attempt: int
    exit_code: int | None
    project_id: str | None
    deleted: bool
    # For a task under the development workflow: its phase after the event.
    phase: str | None = None

    @classmethod
    def from_proto(cls, message: tasks_pb2.TaskEvent) -> Self:
        """Build from a ``taskqueue.v1.TaskEvent``."""
        from_status = TASK_STATUS.from_proto(message.from_status)
        return cls(
            seq=message.seq,
            task_id=message.task_id,
            from_status=None if from_status == "unspecified" else from_status,
            to_status=TASK_STATUS.from_proto(message.to_status),
            reason=message.reason,
            at=_time(message, "at"),
            attempt=message.attempt,
            exit_code=message.exit_code if message.HasField("exit_code") else None,
            project_id=message.project_id or None,
            deleted=message.deleted,
            phase=DEVELOPMENT_PHASE.from_proto(message.phase)
            if message.phase
            else None,
        )


@dataclass(frozen=True, slots=True)
class ActivityMinute:
    """Tasks that reached a final status during one minute (UTC)."""

    start: datetime | None
    completed: int
    failed: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class Activity:
    """Finishes per minute over the last hour (oldest first) and recent events.

    The server keeps both in memory from its start (``since``).
    """

    minutes: tuple[ActivityMinute, ...]
    recent_events: tuple[TaskEvent, ...]
    since: datetime | None

    @classmethod
    def from_proto(cls, message: system_pb2.GetActivityResponse) -> Self:
        """Build from a ``taskqueue.v1.GetActivityResponse``."""
        return cls(
            minutes=tuple(
                ActivityMinute(
                    start=_time(m, "start"),
                    completed=m.completed,
                    failed=m.failed,
                    cancelled=m.cancelled,
                )
                for m in message.minutes
            ),
            recent_events=tuple(TaskEvent.from_proto(e) for e in message.recent_events),
            since=_time(message, "since"),
        )


@dataclass(frozen=True, slots=True)
class Stats:
    """Server-wide counts; ``tasks_by_status`` is keyed by lower-case status."""

    tasks_by_status: dict[str, int]
    total_tasks: int
    total_projects: int
    queue_depth: int
    running: int
    slots: int
    uptime_seconds: float
    version: str
    # True while the queue is paused: nothing new is dispatched.
    paused: bool = False
    # Counters since the server started (they restart from zero with it).
    tasks_created_total: int = 0
    # Attempts that ended, keyed by the lower-case final status.
    tasks_finished_total: dict[str, int] = dataclasses.field(default_factory=dict)
    # Run times of ended attempts: bucket upper bounds in seconds and how
    # many runs fell in each (not cumulative; the last bucket is unbounded).
    task_duration_bounds: tuple[float, ...] = ()
    task_duration_counts: tuple[int, ...] = ()
    task_duration_sum_seconds: float = 0.0

    @classmethod
    def from_proto(cls, message: system_pb2.GetStatsResponse) -> Self:
        """Build from a ``taskqueue.v1.GetStatsResponse``."""
        return cls(
            tasks_by_status=dict(message.tasks_by_status),
            total_tasks=message.total_tasks,
            total_projects=message.total_projects,
            queue_depth=message.queue_depth,
            running=message.running,
            slots=message.slots,
            uptime_seconds=message.uptime_seconds,
            version=message.version,
            paused=message.paused,
            tasks_created_total=message.tasks_created_total,
            tasks_finished_total=dict(message.tasks_finished_total),
            task_duration_bounds=tuple(message.task_duration_bounds),
            task_duration_counts=tuple(message.task_duration_counts),
            task_duration_sum_seconds=message.task_duration_sum_seconds,
        )


@dataclass(frozen=True, slots=True)
class WorkflowProgress:
    """How many of a workflow's tasks are in each status."""

    total: int
    pending: int
    waiting_for_dependencies: int
    running: int
    completed: int
    failed: int
    cancelled: int

    @property
    def ended(self) -> int:
        """Return how many tasks are completed, failed or cancelled."""
        return self.completed + self.failed + self.cancelled

    @classmethod
    def from_proto(cls, message: workflows_pb2.WorkflowProgress) -> Self:
        """Build from a ``taskqueue.v1.WorkflowProgress``."""
        return cls(
            total=message.total,
            pending=message.pending,
            waiting_for_dependencies=message.waiting_for_dependencies,
            running=message.running,
            completed=message.completed,
            failed=message.failed,
            cancelled=message.cancelled,
        )


class WorkflowTask(NamedTuple):
    """A task of a workflow with its key; unpacks as ``(key, task)``."""

    key: str
    task: Task


@dataclass(frozen=True, slots=True)
class WorkflowEdge:
    """``source`` must end as ``condition`` asks before ``target`` may start.

    ``source_key`` is empty when the source is a task outside the workflow.
    """

    source_key: str
    target_key: str
    source_task_id: str
    target_task_id: str
    condition: str

    @classmethod
    def from_proto(cls, message: workflows_pb2.WorkflowEdge) -> Self:
        """Build from a ``taskqueue.v1.WorkflowEdge``."""
        return cls(
            source_key=message.source_key,
            target_key=message.target_key,
            source_task_id=message.source_task_id,
            target_task_id=message.target_task_id,
            condition=_condition_name(message.condition),
        )


@dataclass(frozen=True, slots=True)
class Workflow:
    """A named group of tasks created at once; its status derives from them.

    ``tasks`` and ``edges`` are empty in lists (``list_workflows``).
    """

    id: str
    name: str
    description: str
    project_id: str | None
    status: str
    progress: WorkflowProgress
    created_at: datetime | None
    tasks: tuple[WorkflowTask, ...]
    edges: tuple[WorkflowEdge, ...]

    @property
    def finished(self) -> bool:
        """Return True once the workflow is completed, failed or cancelled."""
        return self.status in FINISHED_STATUSES

    def task(self, key: str) -> Task:
        """Return the task of a key; raise KeyError when there is none."""
        for item in self.tasks:
            if item.key == key:
                return item.task
        raise KeyError(key)

    @classmethod
    def from_proto(cls, message: workflows_pb2.Workflow) -> Self:
        """Build from a ``taskqueue.v1.Workflow``."""
        return cls(
            id=message.id,
            name=message.name,
            description=message.description,
            project_id=message.project_id or None,
            status=WORKFLOW_STATUS.from_proto(message.status),
            progress=WorkflowProgress.from_proto(message.progress),
            created_at=_time(message, "created_at"),
            tasks=tuple(
                WorkflowTask(item.key, Task.from_proto(item.task))
                for item in message.tasks
            ),
            edges=tuple(WorkflowEdge.from_proto(edge) for edge in message.edges),
        )


@dataclass(frozen=True, slots=True)
class Ping:
    """The server's answer to a ping, with the round trip measured here."""

    version: str
    server_time: datetime | None
    round_trip_seconds: float


def task_spec(
    *,
    name: str,
    command: str = "",
    project_id: str | None = None,
    description: str = "",
    priority: str | None = "normal",
    working_dir: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout_seconds: int = 0,
    tags: Iterable[str] | None = None,
    idempotency_key: str | None = None,
    max_retries: int = 0,
    retry_delay_seconds: float = 0.0,
    depends_on: Iterable[DependencyLike] | None = None,
    start_after: datetime | str | None = None,
    development_workflow: bool = False,
) -> tasks_pb2.TaskSpec:
    """Return the ``TaskSpec`` message for the fields a caller gives.

    Raises:
        ValidationError: a dependency or ``start_after`` cannot be read, or a
            number is not a whole number in range.
    """
    whole_numbers(timeout_seconds=timeout_seconds, max_retries=max_retries)
    real_number("retry_delay_seconds", retry_delay_seconds)
    spec = tasks_pb2.TaskSpec(
        name=name,
        command=command,
        description=description,
        project_id=project_id or "",
        priority=PRIORITY.to_filter(priority),
        depends_on=dependencies(depends_on),
        working_dir=working_dir or "",
        env=dict(env or {}),
        timeout_seconds=timeout_seconds,
        max_retries=max_retries,
        retry_delay_seconds=retry_delay_seconds,
        tags=list(tags or ()),
        idempotency_key=idempotency_key or "",
        development_workflow=development_workflow,
    )
    if start_after is not None:
        spec.start_after.FromDatetime(aware_time(start_after, "start_after"))
    return spec


def task_update(
    task_id: str,
    *,
    name: str | None = None,
    command: str | None = None,
    description: str | None = None,
    priority: str | None = None,
    working_dir: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout_seconds: int | None = None,
    max_retries: int | None = None,
    retry_delay_seconds: float | None = None,
    tags: Iterable[str] | None = None,
    depends_on: Iterable[DependencyLike] | None = None,
    start_after: datetime | str | None = None,
    clear_start_after: bool = False,
) -> tasks_pb2.UpdateTaskRequest:
    """Return the ``UpdateTaskRequest`` that sets only the fields given.

    ``env``, ``tags`` and ``depends_on`` replace the whole value when given
    (an empty one clears it); ``clear_start_after`` removes a delayed start.
    """
    if start_after is not None and clear_start_after:
        raise ValidationError(
            "start_after: give a time or clear_start_after, not both."
        )
    whole_numbers(timeout_seconds=timeout_seconds, max_retries=max_retries)
    real_number("retry_delay_seconds", retry_delay_seconds)
    request = tasks_pb2.UpdateTaskRequest(
        id=task_id,
        name=name,
        command=command,
        description=description,
        priority=PRIORITY.to_proto(priority) if priority else None,
        working_dir=working_dir,
        timeout_seconds=timeout_seconds,
        max_retries=max_retries,
        retry_delay_seconds=retry_delay_seconds,
        clear_start_after=clear_start_after,
    )
    if env is not None:
        request.env.update(env)
        request.update_env = True
    if tags is not None:
        request.tags.extend(tags)
        request.update_tags = True
    if depends_on is not None:
        request.depends_on.extend(dependencies(depends_on))
        request.update_depends_on = True
    if start_after is not None:
        request.start_after.FromDatetime(aware_time(start_after, "start_after"))
    return request


def project_create(
    name: str,
    description: str = "",
    *,
    status: str | None = None,
    parent_id: str | None = None,
    tags: Iterable[str] | None = None,
    max_parallel: int = 0,
    coverage_threshold: float | None = None,
    required_reviews: int | None = None,
) -> projects_pb2.CreateProjectRequest:
    """Return the ``CreateProjectRequest`` for the fields a caller gives."""
    return projects_pb2.CreateProjectRequest(
        name=name,
        description=description,
        status=PROJECT_STATUS.to_filter(status),
        parent_id=parent_id or "",
        tags=list(tags or ()),
        max_parallel=max_parallel,
        coverage_threshold=coverage_threshold,
        required_reviews=required_reviews,
    )


def project_update(
    project_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    status: str | None = None,
    parent_id: str | None = None,
    tags: Iterable[str] | None = None,
    max_parallel: int | None = None,
    coverage_threshold: float | None = None,
    required_reviews: int | None = None,
) -> projects_pb2.UpdateProjectRequest:
    """Return the ``UpdateProjectRequest`` that sets only the fields given."""
    request = projects_pb2.UpdateProjectRequest(
        id=project_id,
        name=name,
        description=description,
        status=PROJECT_STATUS.to_proto(status) if status else None,
        parent_id=parent_id,
        max_parallel=max_parallel,
        coverage_threshold=coverage_threshold,
        required_reviews=required_reviews,
    )
    if tags is not None:
        request.tags.extend(tags)
        request.update_tags = True
    return request


def review_request(
    task_id: str,
    model_name: str,
    review_type: str,
    content: str,
    score: float,
    approved: bool,
    suggestions: Iterable[str] | None = None,
) -> development_pb2.AddReviewRequest:
    """Return the ``AddReviewRequest`` of one AI model's review.

    Raises:
        ValidationError: ``review_type`` is not one of REVIEW_TYPES, or
            ``suggestions`` is a single text rather than a list of them.
    """
    if isinstance(suggestions, str):
        raise ValidationError(
            "suggestions: expected a list of suggestions, got the text "
            f"{suggestions[:40]!r}."
        )
    return development_pb2.AddReviewRequest(
        task_id=task_id,
        model_name=model_name,
        review_type=REVIEW_TYPE.to_proto(review_type),
        content=content,
        score=score,
        approved=approved,
        suggestions=list(suggestions or ()),
    )


def dependencies(
    items: Iterable[DependencyLike] | None, field: str = "depends_on"
) -> list[tasks_pb2.Dependency]:
    """Return the ``Dependency`` messages of what a caller gives as depends_on.

    Each item is a task id (a success edge), a ``(task_id, condition)`` pair,
    a ``{"task_id", "condition"}`` mapping or a Dependency.
    """
    if items is None:
        return []
    if isinstance(items, str | Mapping | Dependency):
        raise ValidationError(
            f"{field}: expected a list of dependencies, got {_kind(items)}."
        )
    found = []
    for index, item in enumerate(items):
        dependency = parse_dependency(item, f"{field}[{index}]")
        condition = CONDITION.to_proto(dependency.condition)
        found.append(
            tasks_pb2.Dependency(task_id=dependency.task_id, condition=condition)
        )
    return found


def parse_dependency(item: DependencyLike, field: str = "depends_on") -> Dependency:
    """Return the Dependency a caller means by ``item``; see ``dependencies``."""
    condition: Any = "success"
    if isinstance(item, Dependency):
        task_id, condition = item.task_id, item.condition
    elif isinstance(item, str):
        task_id = item
    elif isinstance(item, Mapping):
        check_fields(item, ("task_id", "condition"), field)
        task_id = item.get("task_id")
        condition = item.get("condition", "success")
        if task_id is None:
            raise ValidationError(f"{field}.task_id: is required.")
    elif isinstance(item, tuple | list) and len(item) == 2:
        task_id, condition = item
    else:
        raise ValidationError(
            f"{field}: expected a task id, a (task_id, condition) pair or a "
            f"mapping with task_id and condition, got {_kind(item)}."
        )
    task_id = _text(task_id, f"{field}.task_id", required=True).strip()
    number = CONDITION.to_proto(
        _text(condition, f"{field}.condition", required=True), f"{field}.condition"
    )
    return Dependency(task_id, CONDITION.from_proto(number))


def whole_numbers(**values: object) -> None:
    """Refuse a value protobuf would reject with a message naming no field.

    Raises:
        ValidationError: naming the first field that is not a 32-bit integer.
    """
    for field, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{field}: must be a whole number, not {value!r}.")
        if not -(2**31) <= value < 2**31:
            raise ValidationError(f"{field}: {value} is out of range.")


def real_number(field: str, value: object) -> None:
    """Refuse a value that is not a number, naming the field.

    Raises:
        ValidationError: the value is not an int or a float.
    """
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        raise ValidationError(f"{field}: must be a number, not {value!r}.")


def aware_time(value: datetime | str, field: str = "start_after") -> datetime:
    """Return a timezone-aware datetime from one or from RFC 3339 text.

    Raises:
        ValidationError: the text is not a time, or the time has no UTC
            offset (a naive time would mean a different instant on the
            server than on this machine).
    """
    shown = value
    if isinstance(value, str):
        try:
            # fromisoformat reads 'Z'; RFC 3339 also allows lower-case t and z.
            value = datetime.fromisoformat(value.strip().upper())
        except ValueError:
            raise ValidationError(
                f"{field}: {shown!r} is not an RFC 3339 time such as "
                "2026-01-02T15:04:05Z."
            ) from None
    if not isinstance(value, datetime):
        raise ValidationError(
            f"{field}: expected a time with a UTC offset, got {_kind(value)}."
        )
    if value.utcoffset() is None:
        if not isinstance(shown, str):
            shown = value.isoformat()
        raise ValidationError(
            f"{field}: {shown!r} has no UTC offset; add one, e.g. Z for UTC or +02:00."
        )
    return value


# The fields a workflow document and each of its tasks may carry.
WORKFLOW_FIELDS = ("name", "description", "project_id", "tasks")
WORKFLOW_TASK_FIELDS = (
    "key",
    "name",
    "command",
    "description",
    "project_id",
    "priority",
    "working_dir",
    "env",
    "timeout_seconds",
    "max_retries",
    "retry_delay_seconds",
    "start_after",
    "tags",
    "idempotency_key",
    "development_workflow",
    "depends_on",
)


WORKFLOW_VIEWS = {
    "full": workflows_pb2.WORKFLOW_VIEW_FULL,
    "basic": workflows_pb2.WORKFLOW_VIEW_BASIC,
}


def workflow_get(workflow_id: str, view: str) -> workflows_pb2.GetWorkflowRequest:
    """Return the ``GetWorkflowRequest`` of a workflow read in a view.

    Raises:
        ValidationError: ``view`` is neither "full" nor "basic".
    """
    if view not in WORKFLOW_VIEWS:
        raise ValidationError(f"view: must be 'full' or 'basic', not {view!r}.")
    return workflows_pb2.GetWorkflowRequest(id=workflow_id, view=WORKFLOW_VIEWS[view])


def workflow_create(
    document_or_name: Mapping[str, Any] | str,
    tasks: Sequence[Mapping[str, Any]] | None = None,
    project_id: str | None = None,
    description: str = "",
) -> workflows_pb2.CreateWorkflowRequest:
    """Return the ``CreateWorkflowRequest`` of a workflow document.

    ``document_or_name`` is the whole document (a mapping with name, tasks
    and optionally description and project_id, as read from YAML or JSON),
    or the workflow's name with the tasks given as ``tasks``. A non-empty
    ``project_id`` or ``description`` argument wins over the document's.

    Each task is a mapping with a ``key`` and the fields of create_task;
    its ``depends_on`` lists keys of the workflow's tasks (a bare key is a
    success edge; ``{"key", "condition"}`` names the condition) and
    ``{"task_id", "condition"}`` edges to tasks outside the workflow.

    Raises:
        ValidationError: naming the field, e.g. ``tasks[1].comand``, when a
            field is unknown, missing or of the wrong type.
    """
    if isinstance(document_or_name, Mapping):
        if tasks is not None:
            raise ValidationError(
                "tasks: give the tasks in the document or as an argument, not both."
            )
        document = document_or_name
        check_fields(document, WORKFLOW_FIELDS, "")
    elif isinstance(document_or_name, str):
        document = {"name": document_or_name, "tasks": tasks}
    else:
        raise ValidationError(
            "expected a workflow document (a mapping) or a workflow name, "
            f"got {_kind(document_or_name)}."
        )
    name = _text(document.get("name"), "name", required=True)
    items = _list(document.get("tasks"), "tasks", required=True)
    return workflows_pb2.CreateWorkflowRequest(
        name=name,
        description=description or _text(document.get("description"), "description"),
        project_id=project_id or _text(document.get("project_id"), "project_id"),
        tasks=[_workflow_task(item, f"tasks[{i}]") for i, item in enumerate(items)],
    )


def _workflow_task(item: Any, path: str) -> workflows_pb2.WorkflowTaskSpec:
    if not isinstance(item, Mapping):
        raise ValidationError(
            f"{path}: expected a mapping with a key and the task's fields, "
            f"got {_kind(item)}."
        )
    check_fields(item, WORKFLOW_TASK_FIELDS, path)
    key = _text(item.get("key"), f"{path}.key", required=True)

    after: list[workflows_pb2.WorkflowDependency] = []
    outside: list[Dependency] = []
    for index, edge in enumerate(_list(item.get("depends_on"), f"{path}.depends_on")):
        field = f"{path}.depends_on[{index}]"
        if isinstance(edge, Mapping) and "task_id" in edge:
            if "key" in edge:
                raise ValidationError(
                    f"{field}: give key (a task of this workflow) or task_id "
                    "(a task outside it), not both."
                )
            outside.append(parse_dependency(edge, field))
        else:
            after.append(_workflow_dependency(edge, field))

    priority = item.get("priority")
    if priority is not None:
        PRIORITY.to_proto(_text(priority, f"{path}.priority"), f"{path}.priority")
    start_after = item.get("start_after")
    spec = task_spec(
        name=_text(item.get("name"), f"{path}.name"),
        command=_text(item.get("command"), f"{path}.command"),
        description=_text(item.get("description"), f"{path}.description"),
        project_id=_text(item.get("project_id"), f"{path}.project_id"),
        priority=priority,
        working_dir=_text(item.get("working_dir"), f"{path}.working_dir"),
        env=_env(item.get("env"), f"{path}.env"),
        timeout_seconds=_int32(item.get("timeout_seconds"), f"{path}.timeout_seconds"),
        max_retries=_int32(item.get("max_retries"), f"{path}.max_retries"),
        retry_delay_seconds=_number(
            item.get("retry_delay_seconds"), f"{path}.retry_delay_seconds"
        ),
        start_after=None
        if start_after is None
        else aware_time(start_after, f"{path}.start_after"),
        tags=[
            _text(tag, f"{path}.tags[{index}]")
            for index, tag in enumerate(_list(item.get("tags"), f"{path}.tags"))
        ],
        idempotency_key=_text(item.get("idempotency_key"), f"{path}.idempotency_key"),
        development_workflow=_flag(
            item.get("development_workflow"), f"{path}.development_workflow"
        ),
        depends_on=outside,
    )
    return workflows_pb2.WorkflowTaskSpec(key=key, task=spec, depends_on=after)


def _workflow_dependency(edge: Any, field: str) -> workflows_pb2.WorkflowDependency:
    condition: Any = "success"
    if isinstance(edge, str):
        key = edge
    elif isinstance(edge, Mapping):
        check_fields(edge, ("key", "condition", "task_id"), field)
        if "key" not in edge:
            raise ValidationError(
                f"{field}: give key (a task of this workflow) or task_id "
                "(a task outside it)."
            )
        key = edge["key"]
        condition = edge.get("condition", "success")
    else:
        raise ValidationError(
            f"{field}: expected a key of this workflow or a mapping with key "
            f"(or task_id) and condition, got {_kind(edge)}."
        )
    return workflows_pb2.WorkflowDependency(
        key=_text(key, f"{field}.key", required=True),
        condition=CONDITION.to_proto(
            _text(condition, f"{field}.condition", required=True),
            f"{field}.condition",
        ),
    )


def check_fields(item: Mapping[Any, Any], allowed: Sequence[str], path: str) -> None:
    """Raise ValidationError naming the first field of ``item`` not in ``allowed``."""
    for name in item:
        if name in allowed:
            continue
        field = f"{path}.{name}" if path else str(name)
        close = difflib.get_close_matches(str(name), allowed, n=1)
        if close:
            hint = f"did you mean {close[0]}?"
        else:
            hint = "expected one of " + ", ".join(allowed) + "."
        raise ValidationError(f"{field}: unknown field; {hint}")


def _text(value: Any, field: str, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise ValidationError(f"{field}: is required.")
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{field}: expected text, got {_kind(value)}.")
    if required and not value.strip():
        raise ValidationError(f"{field}: must not be empty.")
    return value


def _list(value: Any, field: str, *, required: bool = False) -> list[Any]:
    if value is None:
        if required:
            raise ValidationError(f"{field}: is required.")
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{field}: expected a list, got {_kind(value)}.")
    return list(value)


_INT32 = (-(2**31), 2**31 - 1)


def _int32(value: Any, field: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field}: expected a whole number, got {_kind(value)}.")
    if not _INT32[0] <= value <= _INT32[1]:
        raise ValidationError(f"{field}: {value} is out of range.")
    return value


def _number(value: Any, field: str) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{field}: expected a number, got {_kind(value)}.")
    if not math.isfinite(value):
        raise ValidationError(f"{field}: {value} is not a finite number.")
    return float(value)


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError(f"{field}: expected true or false, got {_kind(value)}.")
    return value


def _env(value: Any, field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{field}: expected a mapping of names to values, got {_kind(value)}."
        )
    env = {}
    for name, item in value.items():
        if not isinstance(name, str):
            raise ValidationError(f"{field}: the name {name!r} is not text.")
        if isinstance(item, int | float) and not isinstance(item, bool):
            # YAML reads PORT: 8080 as a number; an environment holds text.
            env[name] = str(item)
        elif item is None:
            raise ValidationError(f"{field}.{name}: expected text, got nothing.")
        else:
            env[name] = _text(item, f"{field}.{name}")
    return env


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool | int | float):
        return f"the {type(value).__name__} {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"a {type(value).__name__}"


def _condition_name(number: int) -> str:
    name = CONDITION.from_proto(number)
    return "success" if name == "unspecified" else name


def _time(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    value: datetime = stamp.ToDatetime(tzinfo=UTC)
    return value
