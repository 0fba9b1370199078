"""Protobuf <-> domain model, one function pair per message.

Enum values arrive as plain integers on the wire; one outside the enum is
rejected here, naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from tq_actors import (
    Activity,
    Condition,
    Dependency,
    InvalidArgument,
    Priority,
    Project,
    ProjectChanges,
    ProjectSpec,
    ProjectStatus,
    Review,
    ReviewType,
    ServerEvent,
    Task,
    TaskChanges,
    TaskEvent,
    TaskOutline,
    TaskSpec,
    TaskStatus,
    WorkflowSpec,
    WorkflowTaskSpec,
    WorkflowView,
)
from tq_actors.graph import workflow_edges
from tq_grpc._gen import (
    development_pb2,
    projects_pb2,
    system_pb2,
    tasks_pb2,
    workflows_pb2,
)

E = TypeVar("E", bound=IntEnum)


def enum_in(kind: type[E], value: int, field: str, default: E | None) -> E | None:
    """Return the domain enum of a wire value; 0 means default."""
    if value == 0:
        return default
    try:
        return kind(value)
    except ValueError:
        raise InvalidArgument(field, f"{value} is not a valid {field}.") from None


def timestamp(seconds: float | None) -> Timestamp | None:
    """Return a Timestamp, or None for no time."""
    if seconds is None:
        return None
    stamp = Timestamp()
    stamp.FromNanoseconds(round(seconds * 1e9))
    return stamp


def seconds_of(stamp: Timestamp, field: str) -> float:
    """Return a Timestamp as seconds since the epoch."""
    value = stamp.seconds + stamp.nanos / 1e9
    if not math.isfinite(value) or not 0 <= stamp.nanos < 10**9:
        raise InvalidArgument(field, "is not a valid timestamp.")
    return value


def task_to_proto(task: Task) -> tasks_pb2.Task:
    """Build the wire form of a task."""
    message = tasks_pb2.Task(
        id=task.id,
        name=task.name,
        command=task.command,
        description=task.description,
        project_id=task.project_id,
        priority=int(task.priority),
        status=int(task.status),
        depends_on=[
            tasks_pb2.Dependency(task_id=d.task_id, condition=int(d.condition))
            for d in task.depends_on
        ],
        working_dir=task.working_dir,
        env=task.env,
        timeout_seconds=task.timeout_seconds,
        max_retries=task.max_retries,
        retry_delay_seconds=task.retry_delay_seconds,
        start_after=timestamp(task.start_after),
        tags=task.tags,
        idempotency_key=task.idempotency_key,
        attempt=task.attempt,
        status_reason=task.status_reason,
        created_at=timestamp(task.created_at),
        updated_at=timestamp(task.updated_at),
        started_at=timestamp(task.started_at),
        finished_at=timestamp(task.finished_at),
        development_workflow=task.development_workflow,
        pid=task.pid,
        blocked_by=task.blocked_by,
        workflow_id=task.workflow_id,
        retry_at=timestamp(task.retry_at),
        development=development_to_proto(task),
    )
    if task.exit_code is not None:
        message.exit_code = task.exit_code
    return message


def outline_to_proto(outline: TaskOutline) -> tasks_pb2.Task:
    """Build the wire form of a task outline: the fields it has, others unset."""
    message = tasks_pb2.Task(
        id=outline.id,
        name=outline.name,
        project_id=outline.project_id,
        status=int(outline.status),
        status_reason=outline.status_reason,
        attempt=outline.attempt,
        started_at=timestamp(outline.started_at),
        finished_at=timestamp(outline.finished_at),
        blocked_by=outline.blocked_by,
    )
    if outline.exit_code is not None:
        message.exit_code = outline.exit_code
    return message


def spec_from_proto(spec: tasks_pb2.TaskSpec) -> TaskSpec:
    """Read a task spec; enum and time fields are checked here."""
    priority = enum_in(Priority, spec.priority, "priority", Priority.NORMAL)
    assert priority is not None
    depends_on = dependencies_from_proto(spec.depends_on)
    start_after = (
        seconds_of(spec.start_after, "start_after")
        if spec.HasField("start_after")
        else None
    )
    return TaskSpec(
        name=spec.name,
        command=spec.command,
        description=spec.description,
        project_id=spec.project_id,
        priority=priority,
        depends_on=depends_on,
        working_dir=spec.working_dir,
        env=dict(spec.env),
        timeout_seconds=spec.timeout_seconds,
        max_retries=spec.max_retries,
        retry_delay_seconds=spec.retry_delay_seconds,
        start_after=start_after,
        tags=tuple(spec.tags),
        idempotency_key=spec.idempotency_key,
        development_workflow=spec.development_workflow,
    )


def condition_of(value: int, field: str) -> Condition:
    """Read a dependency condition; 0 means success."""
    return enum_in(Condition, value, field, Condition.SUCCESS) or Condition.SUCCESS


def dependencies_from_proto(
    edges: Sequence[tasks_pb2.Dependency],
) -> tuple[Dependency, ...]:
    """Read dependency edges, naming the index of a bad condition."""
    return tuple(
        Dependency(d.task_id, condition_of(d.condition, f"depends_on[{i}].condition"))
        for i, d in enumerate(edges)
    )


def changes_from_update(request: tasks_pb2.UpdateTaskRequest) -> TaskChanges:
    """Read the fields an update sets."""

    def given(name: str) -> bool:
        return request.HasField(name)

    priority = None
    if given("priority"):
        priority = enum_in(Priority, request.priority, "priority", Priority.NORMAL)
    return TaskChanges(
        name=request.name if given("name") else None,
        command=request.command if given("command") else None,
        description=request.description if given("description") else None,
        priority=priority,
        working_dir=request.working_dir if given("working_dir") else None,
        env=dict(request.env) if request.update_env else None,
        timeout_seconds=request.timeout_seconds if given("timeout_seconds") else None,
        max_retries=request.max_retries if given("max_retries") else None,
        retry_delay_seconds=request.retry_delay_seconds
        if given("retry_delay_seconds")
        else None,
        tags=tuple(request.tags) if request.update_tags else None,
        depends_on=dependencies_from_proto(request.depends_on)
        if request.update_depends_on
        else None,
        start_after=seconds_of(request.start_after, "start_after")
        if given("start_after")
        else None,
        clear_start_after=request.clear_start_after,
    )


def event_to_proto(event: TaskEvent) -> tasks_pb2.TaskEvent:
    """Build the wire form of a history event."""
    message = tasks_pb2.TaskEvent(
        seq=event.seq,
        task_id=event.task_id,
        from_status=int(event.from_status or 0),
        to_status=int(event.to_status),
        reason=event.reason,
        at=timestamp(event.at),
        attempt=event.attempt,
        project_id=event.project_id,
        deleted=event.deleted,
        phase=int(event.phase or 0),
    )
    if event.exit_code is not None:
        message.exit_code = event.exit_code
    return message


def server_event_to_proto(event: ServerEvent) -> tasks_pb2.ServerEvent:
    """Build the wire form of a project or queue change."""
    return tasks_pb2.ServerEvent(
        kind=int(event.kind), project_id=event.project_id, at=timestamp(event.at)
    )


def activity_to_proto(activity: Activity) -> system_pb2.GetActivityResponse:
    """Build the answer of GetActivity."""
    return system_pb2.GetActivityResponse(
        minutes=[
            system_pb2.ActivityMinute(
                start=timestamp(m.start),
                completed=m.completed,
                failed=m.failed,
                cancelled=m.cancelled,
            )
            for m in activity.minutes
        ],
        recent_events=[event_to_proto(e) for e in activity.recent_events],
        since=timestamp(activity.since),
    )


def status_filter(value: int) -> TaskStatus | None:
    """Read an optional status filter."""
    return enum_in(TaskStatus, value, "status", None)


def priority_filter(value: int) -> Priority | None:
    """Read an optional priority filter."""
    return enum_in(Priority, value, "priority", None)


def project_to_proto(
    project: Project, tasks_by_status: Mapping[str, int] | None = None
) -> projects_pb2.Project:
    """Build the wire form of a project, with its task counts when given."""
    return projects_pb2.Project(
        tasks_by_status=tasks_by_status,
        id=project.id,
        name=project.name,
        description=project.description,
        status=int(project.status),
        parent_id=project.parent_id,
        tags=project.tags,
        max_parallel=project.max_parallel,
        coverage_threshold=project.coverage_threshold,
        required_reviews=project.required_reviews,
        created_at=timestamp(project.created_at),
        updated_at=timestamp(project.updated_at),
    )


def project_spec_from_proto(request: projects_pb2.CreateProjectRequest) -> ProjectSpec:
    """Read a project creation request."""
    status = enum_in(ProjectStatus, request.status, "status", ProjectStatus.ACTIVE)
    assert status is not None
    return ProjectSpec(
        name=request.name,
        description=request.description,
        status=status,
        parent_id=request.parent_id,
        tags=tuple(request.tags),
        max_parallel=request.max_parallel,
        coverage_threshold=request.coverage_threshold
        if request.HasField("coverage_threshold")
        else None,
        required_reviews=request.required_reviews
        if request.HasField("required_reviews")
        else None,
    )


def project_changes_from_update(
    request: projects_pb2.UpdateProjectRequest,
) -> ProjectChanges:
    """Read the fields a project update sets."""

    def given(name: str) -> bool:
        return request.HasField(name)

    status = None
    if given("status"):
        status = enum_in(ProjectStatus, request.status, "status", None)
        if status is None:
            raise InvalidArgument("status", "must name a project status.")
    return ProjectChanges(
        name=request.name if given("name") else None,
        description=request.description if given("description") else None,
        status=status,
        parent_id=request.parent_id if given("parent_id") else None,
        tags=tuple(request.tags) if request.update_tags else None,
        max_parallel=request.max_parallel if given("max_parallel") else None,
        coverage_threshold=request.coverage_threshold
        if given("coverage_threshold")
        else None,
        required_reviews=request.required_reviews
        if given("required_reviews")
        else None,
    )


def workflow_spec_from_proto(
    request: workflows_pb2.CreateWorkflowRequest,
) -> WorkflowSpec:
    """Read a workflow creation request, naming the index of a bad task."""
    tasks = []
    for index, item in enumerate(request.tasks):
        try:
            spec = spec_from_proto(item.task)
            after = tuple(
                (d.key, condition_of(d.condition, f"depends_on[{i}].condition"))
                for i, d in enumerate(item.depends_on)
            )
        except InvalidArgument as exc:
            raise exc.within(f"tasks[{index}]") from None
        tasks.append(WorkflowTaskSpec(key=item.key, spec=spec, after=after))
    return WorkflowSpec(
        name=request.name,
        description=request.description,
        project_id=request.project_id,
        tasks=tuple(tasks),
    )


def workflow_to_proto(view: WorkflowView) -> workflows_pb2.Workflow:
    """Build the wire form of a workflow; tasks and edges when the view has them.

    Outlined tasks come with edges by key only: the keys map to the task ids.
    """
    workflow = view.workflow
    message = workflows_pb2.Workflow(
        id=workflow.id,
        name=workflow.name,
        description=workflow.description,
        project_id=workflow.project_id,
        status=int(view.status),
        progress=workflows_pb2.WorkflowProgress(**view.progress),
        created_at=timestamp(workflow.created_at),
    )
    if view.outlines:
        message.tasks.extend(
            workflows_pb2.WorkflowTask(key=key, task=outline_to_proto(outline))
            for key, outline in view.outlines
        )
        message.edges.extend(
            workflows_pb2.WorkflowEdge(
                source_key=source_key, target_key=target_key, condition=int(condition)
            )
            for source_key, target_key, _, _, condition in workflow_edges(view.outlines)
        )
        return message
    message.tasks.extend(
        workflows_pb2.WorkflowTask(key=key, task=task_to_proto(task))
        for key, task in view.tasks
    )
    message.edges.extend(
        workflows_pb2.WorkflowEdge(
            source_key=source_key,
            target_key=target_key,
            source_task_id=source_id,
            target_task_id=target_id,
            condition=int(condition),
        )
        for source_key, target_key, source_id, target_id, condition in (
            workflow_edges(view.tasks)
        )
    )
    return message


def development_to_proto(task: Task) -> development_pb2.DevelopmentWorkflow | None:
    """Build a task's development workflow message, with its guidance."""
    development = task.development
    if development is None:
        return None
    message = development_pb2.DevelopmentWorkflow(
        task_id=task.id,
        phase=int(development.phase),
        technical_documentation_path=development.documentation_path,
        ai_review_reports=[
            development_pb2.AiReview(
                model_name=r.model_name,
                review_type=int(r.review_type),
                content=r.content,
                score=r.score,
                approved=r.approved,
                suggestions=r.suggestions,
                round=r.round,
                created_at=timestamp(r.created_at),
            )
            for r in development.reviews
        ],
        review_round=development.review_round,
        started_at=timestamp(development.started_at),
        completed_at=timestamp(development.completed_at),
        failure_reason=development.failure_reason,
    )
    if development.coverage is not None:
        message.test_coverage_percentage = development.coverage
    run = development.test_run
    if run is not None:
        message.test_run.CopyFrom(
            development_pb2.TestRun(
                attempt=run.attempt,
                running=run.running,
                started_at=timestamp(run.started_at),
                finished_at=timestamp(run.finished_at),
            )
        )
        if run.exit_code is not None:
            message.test_run.exit_code = run.exit_code
    guide = task.guide
    if guide is not None:
        message.coverage_threshold = guide.coverage_threshold
        message.required_reviews = guide.required_reviews
        message.instructions = guide.instructions
        message.next_call = guide.next_call
        message.unmet_gates.extend(guide.unmet_gates)
    return message


def review_from_proto(request: development_pb2.AddReviewRequest) -> Review:
    """Read an AI review; the review type is required."""
    review_type = enum_in(ReviewType, request.review_type, "review_type", None)
    if review_type is None:
        raise InvalidArgument("review_type", "must name a review type.")
    return Review(
        model_name=request.model_name,
        review_type=review_type,
        content=request.content,
        score=request.score,
        approved=request.approved,
        suggestions=tuple(request.suggestions),
        round=0,
        created_at=0.0,
    )
