"""Protobuf messages -> answer models, and tool arguments -> requests.

Enums become lower-case names without their prefix (``PRIORITY_HIGH`` ->
``high``); times RFC 3339 in UTC; an unset time, exit code or empty id None.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

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
from tq_mcp import models
from tq_mcp.arguments import DependencyIn

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Reviews shown in an answer (the latest), and characters of each review.
MAX_REVIEWS_SHOWN = 10
MAX_REVIEW_CHARS = 2000


def enum_name(wrapper: Any, number: int, prefix: str, unset: str | None) -> str | None:
    """Return the lower-case name of an enum number; ``unset`` for 0."""
    if number == 0:
        return unset
    try:
        name: str = wrapper.Name(number)
    except ValueError:
        return str(number)
    return name.removeprefix(prefix).lower()


def enum_number(wrapper: Any, name: str | None, prefix: str) -> int:
    """Return the proto number of a lower-case name; 0 for None."""
    if name is None:
        return 0
    number: int = wrapper.Value(prefix + name.upper())
    return number


def priority_number(name: str | None) -> int:
    """Return the Priority number of a name; 0 (unset) for None."""
    return enum_number(common_pb2.Priority, name, "PRIORITY_")


def status_number(name: str | None) -> int:
    """Return the TaskStatus number of a name; 0 (unset) for None."""
    return enum_number(common_pb2.TaskStatus, name, "TASK_STATUS_")


def project_status_number(name: str | None) -> int:
    """Return the ProjectStatus number of a name; 0 (unset) for None."""
    return enum_number(common_pb2.ProjectStatus, name, "PROJECT_STATUS_")


def condition_number(name: str) -> int:
    """Return the DependencyCondition number of a name."""
    return enum_number(tasks_pb2.DependencyCondition, name, "DEPENDENCY_CONDITION_")


def time_text(message: Message, field: str) -> str | None:
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


def _optional(message: Message, field: str) -> Any:
    return getattr(message, field) if message.HasField(field) else None


def _priority(task: tasks_pb2.Task) -> str:
    return enum_name(common_pb2.Priority, task.priority, "PRIORITY_", "normal") or ""


def _status(task: tasks_pb2.Task) -> str:
    name = enum_name(common_pb2.TaskStatus, task.status, "TASK_STATUS_", "pending")
    return name or ""


def _condition(number: int) -> str:
    name = enum_name(
        tasks_pb2.DependencyCondition, number, "DEPENDENCY_CONDITION_", "success"
    )
    return name or "success"


# -- development workflow ---------------------------------------------------


def development(workflow: development_pb2.DevelopmentWorkflow) -> models.Development:
    """Return the answer model of a development workflow."""
    reviews = list(workflow.ai_review_reports)
    return models.Development(
        phase=enum_name(
            development_pb2.DevelopmentPhase,
            workflow.phase,
            "DEVELOPMENT_PHASE_",
            "planning",
        )
        or "",
        next_call=workflow.next_call or None,
        instructions=workflow.instructions,
        unmet_gates=list(workflow.unmet_gates),
        technical_documentation_path=workflow.technical_documentation_path or None,
        test_coverage_percentage=_optional(workflow, "test_coverage_percentage"),
        coverage_threshold=workflow.coverage_threshold,
        required_reviews=workflow.required_reviews,
        review_round=workflow.review_round,
        reviews=[_review(r) for r in reviews[-MAX_REVIEWS_SHOWN:]],
        reviews_total=len(reviews),
        test_run=_test_run(workflow),
        failure_reason=workflow.failure_reason or None,
        started_at=time_text(workflow, "started_at"),
        completed_at=time_text(workflow, "completed_at"),
    )


def _review(review: development_pb2.AiReview) -> models.Review:
    content = review.content
    if len(content) > MAX_REVIEW_CHARS:
        content = content[:MAX_REVIEW_CHARS] + " […]"
    return models.Review(
        model_name=review.model_name,
        review_type=enum_name(
            development_pb2.ReviewType, review.review_type, "REVIEW_TYPE_", None
        ),
        approved=review.approved,
        score=review.score,
        content=content,
        suggestions=list(review.suggestions),
        round=review.round,
        created_at=time_text(review, "created_at"),
    )


def _test_run(
    workflow: development_pb2.DevelopmentWorkflow,
) -> models.CommandRun | None:
    if not workflow.HasField("test_run"):
        return None
    run = workflow.test_run
    return models.CommandRun(
        attempt=run.attempt,
        running=run.running,
        exit_code=_optional(run, "exit_code"),
        started_at=time_text(run, "started_at"),
        finished_at=time_text(run, "finished_at"),
    )


def _development_of(task: tasks_pb2.Task) -> models.Development | None:
    if not task.development_workflow or not task.HasField("development"):
        return None
    return development(task.development)


# -- tasks ------------------------------------------------------------------


def task(
    message: tasks_pb2.Task,
    workflow: development_pb2.DevelopmentWorkflow | None = None,
) -> models.Task:
    """Return the full answer model of a task.

    ``workflow`` replaces the task's own development field when given (the
    answer of a DevelopmentService call is the fresher one).
    """
    dev = development(workflow) if workflow is not None else _development_of(message)
    return models.Task(
        id=message.id,
        name=message.name,
        status=_status(message),
        status_reason=message.status_reason,
        blocked_by=message.blocked_by,
        priority=_priority(message),
        command=message.command,
        description=message.description,
        project_id=message.project_id or None,
        workflow_id=message.workflow_id or None,
        depends_on=[
            models.Dependency(task_id=d.task_id, condition=_condition(d.condition))
            for d in message.depends_on
        ],
        tags=list(message.tags),
        working_dir=message.working_dir,
        env=dict(message.env),
        timeout_seconds=message.timeout_seconds,
        max_retries=message.max_retries,
        retry_delay_seconds=message.retry_delay_seconds,
        start_after=time_text(message, "start_after"),
        retry_at=time_text(message, "retry_at"),
        idempotency_key=message.idempotency_key or None,
        attempt=message.attempt,
        exit_code=_optional(message, "exit_code"),
        created_at=time_text(message, "created_at"),
        updated_at=time_text(message, "updated_at"),
        started_at=time_text(message, "started_at"),
        finished_at=time_text(message, "finished_at"),
        development_workflow=message.development_workflow,
        development=dev,
    )


def task_answer(
    message: tasks_pb2.Task,
    workflow: development_pb2.DevelopmentWorkflow | None = None,
) -> models.TaskAnswer:
    """Return a task with its development guidance lifted to the top."""
    full = task(message, workflow)
    dev = full.development
    return models.TaskAnswer(
        next_call=dev.next_call if dev else None,
        instructions=dev.instructions if dev else None,
        unmet_gates=dev.unmet_gates if dev else [],
        task=full,
    )


def task_summary(message: tasks_pb2.Task) -> models.TaskSummary:
    """Return the list item of a task."""
    dev = _development_of(message)
    return models.TaskSummary(
        id=message.id,
        name=message.name,
        status=_status(message),
        priority=_priority(message),
        project_id=message.project_id or None,
        workflow_id=message.workflow_id or None,
        blocked_by=message.blocked_by,
        exit_code=_optional(message, "exit_code"),
        created_at=time_text(message, "created_at"),
        development_phase=dev.phase if dev else None,
        next_call=dev.next_call if dev else None,
        instructions=dev.instructions if dev else None,
        unmet_gates=dev.unmet_gates if dev else [],
    )


def dependencies(items: Iterable[DependencyIn]) -> list[tasks_pb2.Dependency]:
    """Return the proto edges of dependency arguments."""
    return [
        tasks_pb2.Dependency(task_id=d.task_id, condition=condition_number(d.condition))
        for d in items
    ]


# -- projects, workflows, stats ----------------------------------------------


def project(message: projects_pb2.Project) -> models.Project:
    """Return the answer model of a project."""
    return models.Project(
        id=message.id,
        name=message.name,
        description=message.description,
        status=enum_name(
            common_pb2.ProjectStatus, message.status, "PROJECT_STATUS_", "active"
        )
        or "",
        parent_id=message.parent_id or None,
        tags=list(message.tags),
        max_parallel=message.max_parallel,
        coverage_threshold=message.coverage_threshold,
        required_reviews=message.required_reviews,
        created_at=time_text(message, "created_at"),
        updated_at=time_text(message, "updated_at"),
        tasks_by_status=dict(message.tasks_by_status),
    )


def workflow(
    message: workflows_pb2.Workflow, *, start: int, limit: int
) -> models.Workflow:
    """Return a workflow with tasks[start:start + limit] of its tasks."""
    edges: dict[str, list[models.WorkflowEdgeOut]] = {}
    for edge in message.edges:
        edges.setdefault(edge.target_key, []).append(
            models.WorkflowEdgeOut(
                key=edge.source_key,
                task_id=edge.source_task_id,
                condition=_condition(edge.condition),
            )
        )
    members = {item.task.id for item in message.tasks}
    shown = message.tasks[start : start + limit]
    tasks = []
    for item in shown:
        outside = [
            models.WorkflowEdgeOut(
                key=None, task_id=d.task_id, condition=_condition(d.condition)
            )
            for d in item.task.depends_on
            if d.task_id not in members
        ]
        tasks.append(
            models.WorkflowTask(
                key=item.key,
                depends_on=[*edges.get(item.key, []), *outside],
                task=task_summary(item.task),
            )
        )
    end = start + len(shown)
    progress = message.progress
    return models.Workflow(
        id=message.id,
        name=message.name,
        description=message.description,
        project_id=message.project_id or None,
        status=enum_name(
            workflows_pb2.WorkflowStatus,
            message.status,
            "WORKFLOW_STATUS_",
            "pending",
        )
        or "",
        progress=models.WorkflowProgress(
            total=progress.total,
            pending=progress.pending,
            waiting_for_dependencies=progress.waiting_for_dependencies,
            running=progress.running,
            completed=progress.completed,
            failed=progress.failed,
            cancelled=progress.cancelled,
        ),
        created_at=time_text(message, "created_at"),
        tasks=tasks,
        next_cursor=str(end) if end < len(message.tasks) else None,
    )


def stats(message: system_pb2.GetStatsResponse) -> models.Stats:
    """Return the answer model of server statistics."""
    return models.Stats(
        tasks_by_status=dict(message.tasks_by_status),
        total_tasks=message.total_tasks,
        total_projects=message.total_projects,
        queue_depth=message.queue_depth,
        running=message.running,
        slots=message.slots,
        paused=message.paused,
        uptime_seconds=message.uptime_seconds,
        version=message.version,
        tasks_created_total=message.tasks_created_total,
        tasks_finished_total=dict(message.tasks_finished_total),
    )
