"""What the tools answer: pydantic models, so every answer is structured.

Names follow the proto's snake_case fields and the REST documents; enums are
lower-case names and times RFC 3339 in UTC. Answers about a task under the
development workflow carry its ``next_call``, ``instructions`` and
``unmet_gates`` at the top, before the task itself.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

NEXT_CALL = "The tool that makes progress now; null when there is nothing to do."
INSTRUCTIONS = "What to do in the current development phase."
UNMET_GATES = "Why advance_workflow_phase would be refused now; empty when open."


class Dependency(BaseModel):
    """An edge: start once task_id has ended as condition asks."""

    task_id: str
    condition: str


class Review(BaseModel):
    """One AI model's review of a task."""

    model_name: str
    review_type: str | None
    approved: bool
    score: float
    content: str
    suggestions: list[str]
    round: int
    created_at: str | None


class CommandRun(BaseModel):
    """The run of the task's command that entering `testing` started."""

    attempt: int
    running: bool
    exit_code: int | None
    started_at: str | None
    finished_at: str | None


class Development(BaseModel):
    """A task's development workflow: phase, gates and evidence."""

    phase: str = Field(
        description="planning, implementation, test_creation, testing, "
        "ai_review, completed or failed."
    )
    next_call: str | None = Field(description=NEXT_CALL)
    instructions: str = Field(description=INSTRUCTIONS)
    unmet_gates: list[str] = Field(description=UNMET_GATES)
    technical_documentation_path: str | None
    test_coverage_percentage: float | None
    coverage_threshold: float
    required_reviews: int
    review_round: int
    reviews: list[Review] = Field(description="The latest reviews, oldest first.")
    reviews_total: int = Field(description="Reviews of every round.")
    test_run: CommandRun | None
    failure_reason: str | None
    started_at: str | None
    completed_at: str | None


class Task(BaseModel):
    """A task in full."""

    id: str
    name: str
    status: str
    status_reason: str
    blocked_by: str = Field(description="Why a waiting task is not running yet.")
    priority: str
    command: str
    description: str
    project_id: str | None
    workflow_id: str | None
    depends_on: list[Dependency]
    tags: list[str]
    working_dir: str
    env: dict[str, str]
    timeout_seconds: int
    max_retries: int
    retry_delay_seconds: float
    start_after: str | None
    retry_at: str | None
    idempotency_key: str | None
    attempt: int
    exit_code: int | None
    created_at: str | None
    updated_at: str | None
    started_at: str | None
    finished_at: str | None
    development_workflow: bool
    development: Development | None = Field(
        description="Set when the task is under the development workflow."
    )


class TaskAnswer(BaseModel):
    """A task, with what to do next when it is under the development workflow."""

    next_call: str | None = Field(description=NEXT_CALL)
    instructions: str | None = Field(description=INSTRUCTIONS)
    unmet_gates: list[str] = Field(description=UNMET_GATES)
    task: Task


class TaskSummary(BaseModel):
    """A task in a list: what it is, where it stands, what to do next."""

    id: str
    name: str
    status: str
    priority: str
    project_id: str | None
    workflow_id: str | None
    blocked_by: str
    exit_code: int | None
    created_at: str | None
    development_phase: str | None = Field(
        description="Null unless the task is under the development workflow."
    )
    next_call: str | None = Field(description=NEXT_CALL)
    instructions: str | None = Field(description=INSTRUCTIONS)
    unmet_gates: list[str] = Field(description=UNMET_GATES)


class TaskPage(BaseModel):
    """One page of tasks in creation order."""

    tasks: list[TaskSummary]
    next_cursor: str | None = Field(description="Pass as cursor for the next page.")


class DeletedTasks(BaseModel):
    """What delete_task removed."""

    task_id: str
    deleted_ids: list[str] = Field(description="Every task deleted, this one first.")


class LogSlice(BaseModel):
    """A slice of a task's output log."""

    task_id: str
    offset: int
    next_offset: int = Field(description="Pass as offset to read on.")
    size_bytes: int
    eof: bool = Field(description="The task has ended and nothing lies beyond.")
    truncated: bool = Field(description="Output beyond the server's cap was dropped.")
    text: str
    encoding: str = Field(description="How the bytes were turned into text.")


class Project(BaseModel):
    """A project: a group of tasks with shared limits and gate thresholds."""

    id: str
    name: str
    description: str
    status: str
    parent_id: str | None
    tags: list[str]
    max_parallel: int
    coverage_threshold: float
    required_reviews: int
    created_at: str | None
    updated_at: str | None
    tasks_by_status: dict[str, int] = Field(
        default_factory=dict,
        description="The project's tasks per lower-case status, zeros included.",
    )


class ProjectPage(BaseModel):
    """One page of projects in creation order."""

    projects: list[Project]
    next_cursor: str | None = Field(description="Pass as cursor for the next page.")


class WorkflowEdgeOut(BaseModel):
    """One dependency of a workflow task: a key in it, or a task outside."""

    key: str | None
    task_id: str
    condition: str


class WorkflowTask(BaseModel):
    """A task of a workflow, by its key."""

    key: str
    depends_on: list[WorkflowEdgeOut]
    task: TaskSummary


class WorkflowProgress(BaseModel):
    """How many of a workflow's tasks are in each status."""

    total: int
    pending: int
    waiting_for_dependencies: int
    running: int
    completed: int
    failed: int
    cancelled: int


class Workflow(BaseModel):
    """A workflow, with one page of its tasks in creation order."""

    id: str
    name: str
    description: str
    project_id: str | None
    status: str
    progress: WorkflowProgress
    created_at: str | None
    tasks: list[WorkflowTask]
    next_cursor: str | None = Field(
        description="Pass as cursor to get_workflow for the next tasks."
    )


class NextTask(BaseModel):
    """The ready task to take next, and the rule that chose it."""

    rule: str = Field(description="How the task was chosen.")
    found: bool
    next_call: str | None = Field(description=NEXT_CALL)
    instructions: str | None = Field(description=INSTRUCTIONS)
    unmet_gates: list[str] = Field(description=UNMET_GATES)
    task: Task | None
    scanned: int = Field(description="Pending tasks looked at.")
    scan_complete: bool = Field(
        description="False when the scan stopped at its bound before the end."
    )


class Stats(BaseModel):
    """Server-wide counts."""

    tasks_by_status: dict[str, int]
    total_tasks: int
    total_projects: int
    queue_depth: int = Field(description="Tasks queued to run.")
    running: int
    slots: int
    paused: bool
    uptime_seconds: float
    version: str
    tasks_created_total: int = Field(description="Since this server started.")
    tasks_finished_total: dict[str, int] = Field(
        description="Attempts ended since start, by final status."
    )
