"""Pure functions on task records: new tasks, index entries, request matching."""

from __future__ import annotations

import uuid

from tq_actors.models import Development, Task, TaskSpec, TaskStatus
from tq_actors.store import Op
from tq_actors.store import keys as k
from tq_actors.store.codec import encode_task

TRACKING_ONLY = "tracking only: the task has no command to run"


def new_task(
    spec: TaskSpec,
    seq: int,
    now: float,
    *,
    task_id: str = "",
    workflow_id: str = "",
    status: TaskStatus = TaskStatus.PENDING,
) -> Task:
    """Return the task a validated spec creates, pending unless told otherwise."""
    return Task(
        id=task_id or str(uuid.uuid4()),
        seq=seq,
        name=spec.name,
        command=spec.command,
        description=spec.description,
        project_id=spec.project_id,
        priority=spec.priority,
        status=status,
        depends_on=spec.depends_on,
        working_dir=spec.working_dir,
        env=spec.env,
        timeout_seconds=spec.timeout_seconds,
        max_retries=spec.max_retries,
        retry_delay_seconds=spec.retry_delay_seconds,
        start_after=spec.start_after,
        tags=spec.tags,
        idempotency_key=spec.idempotency_key,
        development_workflow=spec.development_workflow,
        created_at=now,
        updated_at=now,
        status_reason=""
        if spec.command or spec.development_workflow
        else TRACKING_ONLY,
        workflow_id=workflow_id,
        development=Development(started_at=now) if spec.development_workflow else None,
    )


_REQUEST_FIELDS = (
    "name",
    "command",
    "description",
    "project_id",
    "priority",
    "working_dir",
    "env",
    "timeout_seconds",
    "tags",
    "depends_on",
    "max_retries",
    "retry_delay_seconds",
    "start_after",
)


def same_request(task: Task, spec: TaskSpec) -> bool:
    """Whether a spec asks for the task that an idempotency key already made."""
    return all(getattr(task, f) == getattr(spec, f) for f in _REQUEST_FIELDS)


def index_ops(old: Task | None, new: Task | None) -> list[Op]:
    """Return the record and index changes that turn old into new."""
    ops: list[Op] = []
    if old is not None:
        seq = k.u64(old.seq)
        if new is None or new.status != old.status:
            ops.append(("idx_status", k.small(old.status) + seq, None))
            if old.project_id:
                ops.append(("idx_project_status", project_status_key(old), None))
        if new is None or new.priority != old.priority:
            ops.append(("idx_priority", k.small(old.priority) + seq, None))
        if new is None:
            ops.append(("idx_created", seq, None))
            ops.append(("tasks", k.uid(old.id), None))
            if old.project_id:
                ops.append(("idx_project", k.uid(old.project_id) + seq, None))
    if new is not None:
        seq, raw_id = k.u64(new.seq), k.uid(new.id)
        ops.append(("tasks", raw_id, encode_task(new)))
        if old is None or new.status != old.status:
            ops.append(("idx_status", k.small(new.status) + seq, raw_id))
            if new.project_id:
                ops.append(("idx_project_status", project_status_key(new), raw_id))
        if old is None or new.priority != old.priority:
            ops.append(("idx_priority", k.small(new.priority) + seq, raw_id))
        if old is None:
            ops.append(("idx_created", seq, raw_id))
            if new.project_id:
                ops.append(("idx_project", k.uid(new.project_id) + seq, raw_id))
    return ops


def dependency_ops(task: Task, *, remove: bool = False) -> list[Op]:
    """Return the reverse-edge index entries of a task's dependencies."""
    raw_id = k.uid(task.id)
    value = None if remove else b""
    return [
        ("idx_dependents", k.uid(d.task_id) + raw_id, value) for d in task.depends_on
    ]


def project_status_key(task: Task) -> bytes:
    """Key of a task in the index by project, then status, then creation."""
    return k.uid(task.project_id) + k.small(task.status) + k.u64(task.seq)
