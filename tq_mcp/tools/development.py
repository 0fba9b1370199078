"""Tools of the gated development workflow, and what to take next.

Phases: planning -> implementation -> test_creation -> testing -> ai_review
-> completed (or failed). The server enforces the gates and words the
instructions; these tools pass its answer on with the task it belongs to.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, Strict

from tq_grpc._gen import common_pb2, development_pb2, tasks_pb2
from tq_mcp import convert, models
from tq_mcp.arguments import ProjectId, ReviewType, TaskId, Text
from tq_mcp.gateway import Gateway

FromPhase = Annotated[
    Literal[
        "planning",
        "implementation",
        "test_creation",
        "testing",
        "ai_review",
        "completed",
        "failed",
    ]
    | None,
    Field(description="Only advance from this phase (the one you saw)."),
]

DEV_ALIASES = {"path": "doc_path", "coverage_percentage": "coverage"}
PRIORITY_ORDER = ("critical", "high", "normal", "low")
MAX_SCANNED = 10_000
SCAN_PAGE = 1000
NEXT_TASK_RULE = (
    "Tasks under the development workflow whose phase is open (not completed "
    "or failed) and whose status is pending (dependencies met, no test run in "
    "progress), in the project if one is given; the highest priority first "
    "(critical, high, normal, low), then the oldest."
)
NOTHING_READY = (
    "No development task is ready now: submit_task creates one, and list_tasks "
    "shows those waiting for dependencies or a test run."
)
_CLOSED_PHASES = (
    development_pb2.DEVELOPMENT_PHASE_COMPLETED,
    development_pb2.DEVELOPMENT_PHASE_FAILED,
)

Score = Annotated[
    float, Strict(), Field(ge=0, le=1, allow_inf_nan=False, description="0 to 1.")
]


class DevelopmentTools:
    """The development workflow tools, bound to one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def _answer(
        self, workflow: development_pb2.DevelopmentWorkflow
    ) -> models.TaskAnswer:
        answer = await self._gateway.call(
            self._gateway.tasks.GetTask,
            tasks_pb2.GetTaskRequest(id=workflow.task_id),
            aliases={"id": "task_id"},
        )
        return convert.task_answer(answer.task, workflow)

    async def _change(self, method: Any, request: Any) -> models.TaskAnswer:
        answer = await self._gateway.call(method, request, aliases=DEV_ALIASES)
        return await self._answer(answer.workflow)

    async def advance_workflow_phase(
        self, task_id: TaskId, from_phase: FromPhase = None
    ) -> models.TaskAnswer:
        """Move a task to its next development phase when the gate is met;
        otherwise the error names the unmet gate. Entering testing runs the
        task's command. Pass from_phase (the phase you saw) so that a retried
        call cannot advance twice."""
        phase = (
            development_pb2.DevelopmentPhase.Value(
                "DEVELOPMENT_PHASE_" + from_phase.upper()
            )
            if from_phase
            else 0
        )
        return await self._change(
            self._gateway.development.AdvancePhase,
            development_pb2.AdvancePhaseRequest(task_id=task_id, from_phase=phase),
        )

    async def set_technical_documentation(
        self,
        task_id: TaskId,
        doc_path: Annotated[
            Text, Field(description="Path of the technical documentation.")
        ],
    ) -> models.TaskAnswer:
        """Record the technical documentation path: the gate out of planning."""
        return await self._change(
            self._gateway.development.SetTechnicalDocumentation,
            development_pb2.SetTechnicalDocumentationRequest(
                task_id=task_id, path=doc_path
            ),
        )

    async def set_test_coverage(
        self,
        task_id: TaskId,
        coverage: Annotated[
            float,
            Strict(),
            Field(ge=0, le=100, allow_inf_nan=False, description="Percent, 0-100."),
        ],
    ) -> models.TaskAnswer:
        """Report test coverage in testing; leaving testing needs it at or
        above the project's threshold and the test run to have exited 0."""
        return await self._change(
            self._gateway.development.SetTestCoverage,
            development_pb2.SetTestCoverageRequest(
                task_id=task_id, coverage_percentage=coverage
            ),
        )

    async def add_ai_review_report(
        self,
        task_id: TaskId,
        model_name: Annotated[Text, Field(description="The reviewing model.")],
        review_type: ReviewType,
        content: Text,
        score: Score,
        approved: Annotated[bool, Strict()],
        suggestions: list[Text] | None = None,
    ) -> models.TaskAnswer:
        """Add one model's review in ai_review. Leaving it needs approving
        reviews from the project's required number of distinct models; a
        rejection sends the task back to implementation."""
        request = development_pb2.AddReviewRequest(
            task_id=task_id,
            model_name=model_name,
            review_type=convert.enum_number(
                development_pb2.ReviewType, review_type, "REVIEW_TYPE_"
            ),
            content=content,
            score=score,
            approved=approved,
            suggestions=suggestions or [],
        )
        return await self._change(self._gateway.development.AddReview, request)

    async def next_task(
        self,
        project_id: Annotated[
            ProjectId | None, Field(description="Only this project's tasks.")
        ] = None,
    ) -> models.NextTask:
        """Pick the ready development-workflow task to work on next; the
        answer states the ranking rule and the task's next_call."""
        scanned = 0
        for priority in PRIORITY_ORDER:
            cursor = ""
            while True:
                if scanned >= MAX_SCANNED:
                    return _next_task(None, scanned, complete=False)
                page = await self._gateway.call(
                    self._gateway.tasks.ListTasks,
                    tasks_pb2.ListTasksRequest(
                        status=common_pb2.TASK_STATUS_PENDING,
                        project_id=project_id or "",
                        priority=convert.priority_number(priority),
                        page_size=min(SCAN_PAGE, MAX_SCANNED - scanned),
                        page_token=cursor,
                    ),
                )
                for task in page.tasks:
                    scanned += 1
                    if _ready(task):
                        return _next_task(task, scanned, complete=True)
                cursor = page.next_page_token
                if not cursor:
                    break
        return _next_task(None, scanned, complete=True)


def _ready(task: tasks_pb2.Task) -> bool:
    if not task.development_workflow:
        return False
    return not (
        task.HasField("development") and task.development.phase in _CLOSED_PHASES
    )


def _next_task(
    task: tasks_pb2.Task | None, scanned: int, *, complete: bool
) -> models.NextTask:
    if task is None:
        return models.NextTask(
            rule=NEXT_TASK_RULE,
            found=False,
            next_call=None,
            instructions=NOTHING_READY,
            unmet_gates=[],
            task=None,
            scanned=scanned,
            scan_complete=complete,
        )
    answer = convert.task_answer(task)
    return models.NextTask(
        rule=NEXT_TASK_RULE,
        found=True,
        next_call=answer.next_call,
        instructions=answer.instructions,
        unmet_gates=answer.unmet_gates,
        task=answer.task,
        scanned=scanned,
        scan_complete=complete,
    )
