"""Typed records the SDK returns, converted from the gRPC messages.

Enums travel as proto numbers and reach Python as lower-case names
(``"pending"``, ``"high"``, ``"on_hold"``); this module is the one place that
converts between the two. Timestamps are timezone-aware ``datetime`` values,
or None when the server left them unset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

from taskqueue.errors import ValidationError
from tq_grpc._gen import common_pb2, projects_pb2, system_pb2, tasks_pb2

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

    def to_proto(self, name: str) -> E:
        """Return the proto number of ``name``; raise ValidationError if unknown."""
        key = name.strip().lower().replace("-", "_")
        if key not in self.names:
            choices = ", ".join(self.names)
            raise ValidationError(f"{self._field}: {name!r} is not one of {choices}.")
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

PRIORITIES = PRIORITY.names
TASK_STATUSES = TASK_STATUS.names
PROJECT_STATUSES = PROJECT_STATUS.names
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
        condition = CONDITION.from_proto(message.condition)
        return cls(
            message.task_id, "success" if condition == "unspecified" else condition
        )


@dataclass(frozen=True, slots=True)
class Task:
    """A shell command with its scheduling attributes and its latest run."""

    id: str
    name: str
    command: str
    description: str
    project_id: str | None
    priority: str
    status: str
    depends_on: tuple[Dependency, ...]
    working_dir: str
    env: dict[str, str]
    timeout_seconds: int
    max_retries: int
    retry_delay_seconds: float
    start_after: datetime | None
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
            priority=PRIORITY.from_proto(message.priority),
            status=TASK_STATUS.from_proto(message.status),
            depends_on=tuple(Dependency.from_proto(d) for d in message.depends_on),
            working_dir=message.working_dir,
            env=dict(message.env),
            timeout_seconds=message.timeout_seconds,
            max_retries=message.max_retries,
            retry_delay_seconds=message.retry_delay_seconds,
            start_after=_time(message, "start_after"),
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
    depends_on: Iterable[str | Dependency] | None = None,
    start_after: datetime | None = None,
    development_workflow: bool = False,
) -> tasks_pb2.TaskSpec:
    """Return the ``TaskSpec`` message for the fields a caller gives."""
    spec = tasks_pb2.TaskSpec(
        name=name,
        command=command,
        description=description,
        project_id=project_id or "",
        priority=PRIORITY.to_filter(priority),
        depends_on=[_dependency(item) for item in depends_on or ()],
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
        spec.start_after.FromDatetime(start_after)
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
) -> tasks_pb2.UpdateTaskRequest:
    """Return the ``UpdateTaskRequest`` that sets only the fields given."""
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
    )
    if env is not None:
        request.env.update(env)
        request.update_env = True
    if tags is not None:
        request.tags.extend(tags)
        request.update_tags = True
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


def _dependency(item: str | Dependency) -> tasks_pb2.Dependency:
    if isinstance(item, str):
        item = Dependency(item)
    condition = CONDITION.to_proto(item.condition)
    return tasks_pb2.Dependency(task_id=item.task_id, condition=condition)


def _time(message: Any, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    value: datetime = stamp.ToDatetime(tzinfo=UTC)
    return value
