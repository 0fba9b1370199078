"""Protobuf messages <-> JSON documents of the REST API.

Enums travel as proto numbers and appear in JSON as lower-case names without
their prefix (``PRIORITY_HIGH`` -> ``high``). Times are RFC 3339 in UTC with
microseconds (``2026-12-04T16:00:00.123456Z``); an unset time is null, and so
is an unset ``exit_code`` and an empty id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from tq_grpc._gen import (
    common_pb2,
    development_pb2,
    projects_pb2,
    system_pb2,
    tasks_pb2,
    workflows_pb2,
)
from tq_rest import schemas

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

E = TypeVar("E", bound=int)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EnumNames(Generic[E]):
    """Convert one proto enum to lower-case names and back."""

    def __init__(self, wrapper: EnumTypeWrapper, prefix: str) -> None:
        self._wrapper = wrapper
        self._prefix = prefix

    def name(self, number: int) -> str | None:
        """Return the lower-case name of a number; None for UNSPECIFIED (0)."""
        if number == 0:
            return None
        try:
            key: str = self._wrapper.Name(number)
        except ValueError:
            return str(number)
        return key.removeprefix(self._prefix).lower()

    def number(self, name: str | None) -> E:
        """Return the proto number of a lower-case name; 0 for None."""
        if name is None:
            return cast(E, 0)
        return cast(E, self._wrapper.Value(self._prefix + name.upper()))


PRIORITY: EnumNames[common_pb2.Priority] = EnumNames(common_pb2.Priority, "PRIORITY_")
TASK_STATUS: EnumNames[common_pb2.TaskStatus] = EnumNames(
    common_pb2.TaskStatus, "TASK_STATUS_"
)
PROJECT_STATUS: EnumNames[common_pb2.ProjectStatus] = EnumNames(
    common_pb2.ProjectStatus, "PROJECT_STATUS_"
)
CONDITION: EnumNames[tasks_pb2.DependencyCondition] = EnumNames(
    tasks_pb2.DependencyCondition, "DEPENDENCY_CONDITION_"
)
WORKFLOW_STATUS: EnumNames[workflows_pb2.WorkflowStatus] = EnumNames(
    workflows_pb2.WorkflowStatus, "WORKFLOW_STATUS_"
)
PHASE: EnumNames[development_pb2.DevelopmentPhase] = EnumNames(
    development_pb2.DevelopmentPhase, "DEVELOPMENT_PHASE_"
)
REVIEW_TYPE: EnumNames[development_pb2.ReviewType] = EnumNames(
    development_pb2.ReviewType, "REVIEW_TYPE_"
)


def time_json(message: Message, field: str) -> str | None:
    """Return a Timestamp field as RFC 3339 UTC text, or None when unset."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    moment = _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def timestamp(moment: datetime) -> Timestamp:
    """Return the Timestamp of an aware datetime."""
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _optional_int(message: Message, field: str) -> int | None:
    if not message.HasField(field):
        return None
    value: int = getattr(message, field)
    return value


# -- responses ------------------------------------------------------------


def task_json(task: tasks_pb2.Task) -> dict[str, Any]:
    """Return the JSON document of a task."""
    return {
        "id": task.id,
        "name": task.name,
        "command": task.command,
        "description": task.description,
        "project_id": task.project_id or None,
        "priority": PRIORITY.name(task.priority) or "normal",
        "status": TASK_STATUS.name(task.status) or "pending",
        "depends_on": [
            {
                "task_id": d.task_id,
                "condition": CONDITION.name(d.condition) or "success",
            }
            for d in task.depends_on
        ],
        "working_dir": task.working_dir,
        "env": dict(task.env),
        "timeout_seconds": task.timeout_seconds,
        "max_retries": task.max_retries,
        "retry_delay_seconds": task.retry_delay_seconds,
        "start_after": time_json(task, "start_after"),
        "tags": list(task.tags),
        "idempotency_key": task.idempotency_key or None,
        "attempt": task.attempt,
        "exit_code": _optional_int(task, "exit_code"),
        "status_reason": task.status_reason,
        "created_at": time_json(task, "created_at"),
        "updated_at": time_json(task, "updated_at"),
        "started_at": time_json(task, "started_at"),
        "finished_at": time_json(task, "finished_at"),
        "development_workflow": task.development_workflow,
        "pid": task.pid,
        "blocked_by": task.blocked_by,
        "workflow_id": task.workflow_id or None,
        "retry_at": time_json(task, "retry_at"),
        "development": (
            development_json(task.development) if task.HasField("development") else None
        ),
    }


def task_outline_json(task: tasks_pb2.Task) -> dict[str, Any]:
    """Return the JSON document of an outlined task (a basic workflow read)."""
    return {
        "id": task.id,
        "name": task.name,
        "project_id": task.project_id or None,
        "status": TASK_STATUS.name(task.status) or "pending",
        "status_reason": task.status_reason,
        "attempt": task.attempt,
        "exit_code": _optional_int(task, "exit_code"),
        "started_at": time_json(task, "started_at"),
        "finished_at": time_json(task, "finished_at"),
        "blocked_by": task.blocked_by,
    }


def development_json(workflow: development_pb2.DevelopmentWorkflow) -> dict[str, Any]:
    """Return the JSON document of a task's development workflow."""
    coverage = (
        workflow.test_coverage_percentage
        if workflow.HasField("test_coverage_percentage")
        else None
    )
    return {
        "task_id": workflow.task_id,
        "phase": PHASE.name(workflow.phase) or "planning",
        "technical_documentation_path": workflow.technical_documentation_path,
        "test_coverage_percentage": coverage,
        "ai_review_reports": [_review_json(r) for r in workflow.ai_review_reports],
        "review_round": workflow.review_round,
        "test_run": _test_run_json(workflow),
        "started_at": time_json(workflow, "started_at"),
        "completed_at": time_json(workflow, "completed_at"),
        "coverage_threshold": workflow.coverage_threshold,
        "required_reviews": workflow.required_reviews,
        "instructions": workflow.instructions,
        "next_call": workflow.next_call,
        "unmet_gates": list(workflow.unmet_gates),
        "failure_reason": workflow.failure_reason,
    }


def _review_json(review: development_pb2.AiReview) -> dict[str, Any]:
    return {
        "model_name": review.model_name,
        "review_type": REVIEW_TYPE.name(review.review_type),
        "content": review.content,
        "score": review.score,
        "approved": review.approved,
        "suggestions": list(review.suggestions),
        "round": review.round,
        "created_at": time_json(review, "created_at"),
    }


def _test_run_json(
    workflow: development_pb2.DevelopmentWorkflow,
) -> dict[str, Any] | None:
    """Return the test run, or None while none has started."""
    run = workflow.test_run
    if not workflow.HasField("test_run") or (run.attempt == 0 and not run.running):
        return None
    return {
        "attempt": run.attempt,
        "running": run.running,
        "exit_code": _optional_int(run, "exit_code"),
        "started_at": time_json(run, "started_at"),
        "finished_at": time_json(run, "finished_at"),
    }


def tasks_json(tasks: Iterable[tasks_pb2.Task]) -> list[dict[str, Any]]:
    """Return the JSON documents of tasks."""
    return [task_json(task) for task in tasks]


def event_json(event: tasks_pb2.TaskEvent) -> dict[str, Any]:
    """Return the JSON document of a task event."""
    return {
        "seq": event.seq,
        "task_id": event.task_id,
        "from_status": TASK_STATUS.name(event.from_status),
        "to_status": TASK_STATUS.name(event.to_status) or "pending",
        "reason": event.reason,
        "at": time_json(event, "at"),
        "attempt": event.attempt,
        "exit_code": _optional_int(event, "exit_code"),
        "project_id": event.project_id or None,
        "deleted": event.deleted,
    }


def project_json(project: projects_pb2.Project) -> dict[str, Any]:
    """Return the JSON document of a project."""
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "status": PROJECT_STATUS.name(project.status) or "active",
        "parent_id": project.parent_id or None,
        "tags": list(project.tags),
        "max_parallel": project.max_parallel,
        "coverage_threshold": project.coverage_threshold,
        "required_reviews": project.required_reviews,
        "created_at": time_json(project, "created_at"),
        "updated_at": time_json(project, "updated_at"),
        "tasks_by_status": dict(project.tasks_by_status),
    }


def activity_json(activity: system_pb2.GetActivityResponse) -> dict[str, Any]:
    """Return the JSON document of recent activity."""
    return {
        "minutes": [
            {
                "start": time_json(m, "start"),
                "completed": m.completed,
                "failed": m.failed,
                "cancelled": m.cancelled,
            }
            for m in activity.minutes
        ],
        "recent_events": [event_json(e) for e in activity.recent_events],
        "since": time_json(activity, "since"),
    }


def stats_json(stats: system_pb2.GetStatsResponse) -> dict[str, Any]:
    """Return the JSON document of server statistics."""
    return {
        "tasks_by_status": dict(stats.tasks_by_status),
        "total_tasks": stats.total_tasks,
        "total_projects": stats.total_projects,
        "queue_depth": stats.queue_depth,
        "running": stats.running,
        "slots": stats.slots,
        "uptime_seconds": stats.uptime_seconds,
        "version": stats.version,
        "paused": stats.paused,
    }


def workflow_json(
    workflow: workflows_pb2.Workflow, *, detailed: bool = True, outlined: bool = False
) -> dict[str, Any]:
    """Return the JSON document of a workflow; a list item is not detailed,
    a basic read's is outlined."""
    progress = workflow.progress
    document: dict[str, Any] = {
        "id": workflow.id,
        "name": workflow.name,
        "description": workflow.description,
        "project_id": workflow.project_id or None,
        "status": WORKFLOW_STATUS.name(workflow.status) or "pending",
        "progress": {
            "total": progress.total,
            "pending": progress.pending,
            "waiting_for_dependencies": progress.waiting_for_dependencies,
            "running": progress.running,
            "completed": progress.completed,
            "failed": progress.failed,
            "cancelled": progress.cancelled,
        },
        "created_at": time_json(workflow, "created_at"),
    }
    if outlined:
        document["tasks"] = [
            {"key": t.key, "task": task_outline_json(t.task)} for t in workflow.tasks
        ]
        document["edges"] = [
            {
                "source_key": e.source_key,
                "target_key": e.target_key,
                "condition": CONDITION.name(e.condition) or "success",
            }
            for e in workflow.edges
        ]
    elif detailed:
        document["tasks"] = [
            {"key": t.key, "task": task_json(t.task)} for t in workflow.tasks
        ]
        document["edges"] = [
            {
                "source_key": e.source_key,
                "target_key": e.target_key,
                "source_task_id": e.source_task_id,
                "target_task_id": e.target_task_id,
                "condition": CONDITION.name(e.condition) or "success",
            }
            for e in workflow.edges
        ]
    return document


# -- requests -------------------------------------------------------------


def review_request(
    task_id: str, body: schemas.ReviewIn
) -> development_pb2.AddReviewRequest:
    """Return the AddReviewRequest of a review."""
    return development_pb2.AddReviewRequest(
        task_id=task_id,
        model_name=body.model_name,
        review_type=REVIEW_TYPE.number(body.review_type),
        content=body.content,
        score=body.score,
        approved=body.approved,
        suggestions=body.suggestions,
    )


def task_spec(body: schemas.TaskCreate) -> tasks_pb2.TaskSpec:
    """Return the TaskSpec of a creation request."""
    return _spec(body, body.depends_on)


def _spec(
    body: schemas.TaskFields,
    depends_on: Iterable[schemas.DependencyIn | schemas.WorkflowDependencyIn],
) -> tasks_pb2.TaskSpec:
    spec = tasks_pb2.TaskSpec(
        name=body.name or "",
        command=body.command,
        description=body.description,
        project_id=str(body.project_id or ""),
        priority=PRIORITY.number(body.priority),
        depends_on=_dependencies(depends_on),
        working_dir=body.working_dir or "",
        env=body.env,
        timeout_seconds=body.timeout_seconds,
        max_retries=body.max_retries,
        retry_delay_seconds=body.retry_delay_seconds,
        tags=body.tags,
        idempotency_key=body.idempotency_key or "",
        development_workflow=body.development_workflow,
    )
    if body.start_after is not None:
        spec.start_after.CopyFrom(timestamp(body.start_after))
    return spec


def _dependencies(
    depends_on: Iterable[schemas.DependencyIn | schemas.WorkflowDependencyIn],
) -> list[tasks_pb2.Dependency]:
    return [
        tasks_pb2.Dependency(
            task_id=str(d.task_id), condition=CONDITION.number(d.condition)
        )
        for d in depends_on
    ]


def task_update(task_id: str, body: schemas.TaskUpdate) -> tasks_pb2.UpdateTaskRequest:
    """Return the UpdateTaskRequest that sets exactly the given fields."""
    request = tasks_pb2.UpdateTaskRequest(id=task_id)
    given = {k: v for k, v in body.model_dump().items() if v is not None}
    for name in ("name", "command", "description", "working_dir"):
        if name in given:
            setattr(request, name, given[name])
    for name in ("timeout_seconds", "max_retries", "retry_delay_seconds"):
        if name in given:
            setattr(request, name, given[name])
    if "priority" in given:
        request.priority = PRIORITY.number(given["priority"])
    if "env" in given:
        request.env.update(given["env"])
        request.update_env = True
    if "tags" in given:
        request.tags.extend(given["tags"])
        request.update_tags = True
    if body.depends_on is not None:
        request.depends_on.extend(_dependencies(body.depends_on))
        request.update_depends_on = True
    if body.start_after is not None:
        request.start_after.CopyFrom(timestamp(body.start_after))
    elif "start_after" in body.model_fields_set:
        request.clear_start_after = True
    return request


@dataclass
class WorkflowRequest:
    """A CreateWorkflowRequest, and how to name its fields as the client did.

    A REST workflow task lists every dependency in one ``depends_on``; the
    request splits them into key edges (``tasks[i].depends_on``) and edges to
    outside tasks (``tasks[i].task.depends_on``), so an index the server
    names in an error must be turned back into the client's.
    """

    request: workflows_pb2.CreateWorkflowRequest
    # gRPC field path -> REST field path, for the parts that differ.
    renames: dict[str, str] = field(default_factory=dict)

    def rest_field(self, name: str) -> str:
        """Return the REST field of a field path the server named.

        ``tasks[3].task.name`` -> ``tasks[3].name`` (REST has no task level).
        An edge (``tasks[3].depends_on[j]``) is a key edge unless it sits
        under ``task.`` or names a ``task_id``; either way its index becomes
        that of the entry the client sent.
        """
        match = _WORKFLOW_TASK_FIELD.match(name)
        if match is None:
            return name
        task, nested, path = match.groups()
        edge = _EDGE.match(path)
        if edge is None:
            return f"{task}.{path}"
        index, tail = edge.group(1), path[edge.end() :]
        outside = nested is not None or tail.startswith(".task_id")
        kind = OUTSIDE_EDGE if outside else KEY_EDGE
        rest_edge = self.renames.get(f"{task}.{kind}[{index}]")
        return name if rest_edge is None else rest_edge + tail


# How the request names the two kinds of edges of workflow task i.
KEY_EDGE = "depends_on"
OUTSIDE_EDGE = "task.depends_on"
_WORKFLOW_TASK_FIELD = re.compile(r"^(tasks\[\d+\])\.(task\.)?(.+)$")
_EDGE = re.compile(r"^depends_on\[(\d+)\]")


def workflow_create(body: schemas.WorkflowCreate) -> WorkflowRequest:
    """Return the CreateWorkflowRequest of a creation request."""
    request = workflows_pb2.CreateWorkflowRequest(
        name=body.name,
        description=body.description,
        project_id=str(body.project_id or ""),
    )
    renames: dict[str, str] = {}
    for i, task in enumerate(body.tasks):
        outside = [(n, d) for n, d in enumerate(task.depends_on) if d.key is None]
        inside = [(n, d) for n, d in enumerate(task.depends_on) if d.key is not None]
        for kind, edges in ((OUTSIDE_EDGE, outside), (KEY_EDGE, inside)):
            for j, (n, _) in enumerate(edges):
                renames[f"tasks[{i}].{kind}[{j}]"] = f"tasks[{i}].depends_on[{n}]"
        request.tasks.append(
            workflows_pb2.WorkflowTaskSpec(
                key=task.key,
                task=_spec(task, (d for _, d in outside)),
                depends_on=[
                    workflows_pb2.WorkflowDependency(
                        key=d.key or "", condition=CONDITION.number(d.condition)
                    )
                    for _, d in inside
                ],
            )
        )
    return WorkflowRequest(request, renames)


def project_create(body: schemas.ProjectCreate) -> projects_pb2.CreateProjectRequest:
    """Return the CreateProjectRequest of a creation request."""
    request = projects_pb2.CreateProjectRequest(
        name=body.name,
        description=body.description,
        status=PROJECT_STATUS.number(body.status),
        parent_id=str(body.parent_id or ""),
        tags=body.tags,
        max_parallel=body.max_parallel,
    )
    if body.coverage_threshold is not None:
        request.coverage_threshold = body.coverage_threshold
    if body.required_reviews is not None:
        request.required_reviews = body.required_reviews
    return request


def project_update(
    project_id: str, body: schemas.ProjectUpdate
) -> projects_pb2.UpdateProjectRequest:
    """Return the UpdateProjectRequest that sets exactly the given fields."""
    request = projects_pb2.UpdateProjectRequest(id=project_id)
    given = {k: v for k, v in body.model_dump().items() if v is not None}
    for name in (
        "name",
        "description",
        "max_parallel",
        "coverage_threshold",
        "required_reviews",
    ):
        if name in given:
            setattr(request, name, given[name])
    if "status" in given:
        request.status = PROJECT_STATUS.number(given["status"])
    if "parent_id" in given:
        request.parent_id = str(given["parent_id"])
    if "tags" in given:
        request.tags.extend(given["tags"])
        request.update_tags = True
    return request
