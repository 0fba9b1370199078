"""Routes of /tasks/{id}/workflow: a task's gated development workflow.

Each route answers the workflow as it stands after the call. A skipped gate
is a 409 whose message is the server's, naming the gate.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from tq_grpc._gen import development_pb2
from tq_rest import convert, schemas
from tq_rest.backend import Backend, BackendDep
from tq_rest.errors import CHANGE_ERRORS
from tq_rest.jsonio import JsonResponse
from tq_rest.routes.paging import ObjectId

router = APIRouter(tags=["development"])

# gRPC request field -> the REST name, for error messages.
ALIASES = {"task_id": "id", "coverage_percentage": "coverage"}


async def _answer(
    backend: Backend, method: Any, request: Any, *, status_code: int = 200
) -> Response:
    answer = await backend.call(method, request, aliases=ALIASES)
    return JsonResponse(
        convert.development_json(answer.workflow), status_code=status_code
    )


@router.get(
    "/tasks/{id}/workflow",
    response_model=schemas.DevelopmentWorkflow,
    responses=CHANGE_ERRORS,
    summary="Get a task's development workflow",
)
async def get_development(id: ObjectId, backend: BackendDep) -> Response:
    """Return the phase, the gates still unmet and what to do next.

    A task not under the development workflow is a 409.
    """
    return await _answer(
        backend,
        backend.development.GetDevelopmentWorkflow,
        development_pb2.GetDevelopmentWorkflowRequest(task_id=str(id)),
    )


@router.post(
    "/tasks/{id}/workflow/advance",
    response_model=schemas.DevelopmentWorkflow,
    responses=CHANGE_ERRORS,
    summary="Move to the next development phase",
)
async def advance_phase(
    id: ObjectId,
    backend: BackendDep,
    body: Annotated[schemas.AdvanceRequest | None, Body()] = None,
) -> Response:
    """Move to the next phase when the current phase's gate is met; 409
    naming the gate otherwise.

    Phases: planning → implementation → test_creation → testing → ai_review →
    completed. Leaving planning needs a technical documentation path; leaving
    testing, coverage at or above the project's threshold and, for a task
    with a command, the run that entering testing started ended with exit
    code 0; leaving ai_review, approving reviews from the project's required
    number of distinct models in the current round.

    With `{"from_phase": "<phase>"}` the call is refused (409) unless the
    task is in that phase, so a retried or concurrent call advances once.
    """
    from_phase = body.from_phase if body is not None else None
    return await _answer(
        backend,
        backend.development.AdvancePhase,
        development_pb2.AdvancePhaseRequest(
            task_id=str(id), from_phase=convert.PHASE.number(from_phase)
        ),
    )


@router.post(
    "/tasks/{id}/workflow/documentation",
    response_model=schemas.DevelopmentWorkflow,
    responses=CHANGE_ERRORS,
    summary="Set the technical documentation path",
)
async def set_documentation(
    id: ObjectId, body: schemas.DocumentationIn, backend: BackendDep
) -> Response:
    """Record where the technical documentation is: the gate out of planning."""
    return await _answer(
        backend,
        backend.development.SetTechnicalDocumentation,
        development_pb2.SetTechnicalDocumentationRequest(
            task_id=str(id), path=body.path
        ),
    )


@router.post(
    "/tasks/{id}/workflow/coverage",
    response_model=schemas.DevelopmentWorkflow,
    responses=CHANGE_ERRORS,
    summary="Report the test coverage",
)
async def set_coverage(
    id: ObjectId, body: schemas.CoverageIn, backend: BackendDep
) -> Response:
    """Report the measured coverage; only in the testing phase (409 otherwise)."""
    return await _answer(
        backend,
        backend.development.SetTestCoverage,
        development_pb2.SetTestCoverageRequest(
            task_id=str(id), coverage_percentage=body.coverage
        ),
    )


@router.post(
    "/tasks/{id}/workflow/reviews",
    status_code=201,
    response_model=schemas.DevelopmentWorkflow,
    responses=CHANGE_ERRORS,
    summary="Add an AI review",
)
async def add_review(
    id: ObjectId, body: schemas.ReviewIn, backend: BackendDep
) -> Response:
    """Add a review; only in the ai_review phase (409 otherwise).

    A rejecting review (``approved: false``) sends the task back to
    implementation in a new review round, clearing coverage and the test run.
    """
    return await _answer(
        backend,
        backend.development.AddReview,
        convert.review_request(str(id), body),
        status_code=201,
    )


@router.post(
    "/tasks/{id}/workflow/fail",
    response_model=schemas.DevelopmentWorkflow,
    responses=CHANGE_ERRORS,
    summary="Fail the development workflow",
)
async def fail_development(
    id: ObjectId,
    backend: BackendDep,
    body: Annotated[schemas.FailIn | None, Body()] = None,
) -> Response:
    """End the workflow, and the task, as failed from any phase before completed.

    Optional body ``{"reason": "…"}``. Refused (409) while the test run runs.
    """
    reason = body.reason if body is not None else ""
    return await _answer(
        backend,
        backend.development.FailDevelopment,
        development_pb2.FailDevelopmentRequest(task_id=str(id), reason=reason),
    )


@router.post(
    "/tasks/{id}/workflow/reopen",
    response_model=schemas.DevelopmentWorkflow,
    responses=CHANGE_ERRORS,
    summary="Reopen a failed or completed development workflow",
)
async def reopen_development(id: ObjectId, backend: BackendDep) -> Response:
    """Go back from failed or completed to implementation, in a new review round."""
    return await _answer(
        backend,
        backend.development.ReopenDevelopment,
        development_pb2.ReopenDevelopmentRequest(task_id=str(id)),
    )
