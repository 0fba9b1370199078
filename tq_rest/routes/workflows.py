"""Routes of /workflows: create a dependency graph of tasks, read, cancel, retry."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from tq_grpc._gen import workflows_pb2
from tq_rest import convert, schemas
from tq_rest.backend import BackendDep
from tq_rest.errors import (
    CHANGE_ERRORS,
    COMMON_ERRORS,
    OBJECT_ERRORS,
    ApiError,
    renamed,
)
from tq_rest.jsonio import JsonResponse
from tq_rest.routes.paging import (
    LIST_ALIASES,
    PAGE_HEADERS,
    Cursor,
    Limit,
    ObjectId,
    page_response,
)

router = APIRouter(tags=["workflows"])


@router.get(
    "/workflows",
    response_model=list[schemas.WorkflowSummary],
    responses={**COMMON_ERRORS, 200: {"headers": PAGE_HEADERS}},
    summary="List workflows in creation order",
)
async def list_workflows(
    request: Request,
    backend: BackendDep,
    project: uuid.UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Return one page of workflows, without their tasks and edges."""
    answer = await backend.call(
        backend.workflows.ListWorkflows,
        workflows_pb2.ListWorkflowsRequest(
            project_id=str(project or ""), page_size=limit, page_token=cursor or ""
        ),
        aliases=LIST_ALIASES,
    )
    workflows = [convert.workflow_json(w, detailed=False) for w in answer.workflows]
    return page_response(request, workflows, answer.next_page_token)


@router.post(
    "/workflows",
    status_code=201,
    response_model=schemas.Workflow,
    responses=CHANGE_ERRORS,
    summary="Create a workflow",
)
async def create_workflow(
    body: schemas.WorkflowCreate, backend: BackendDep
) -> Response:
    """Store every task of the workflow and their edges in one atomic write.

    An invalid graph (an unknown or repeated key, a cycle) is a 422 whose
    ``field`` names the entry at fault, e.g. ``tasks[2].depends_on[0]``.
    """
    built = convert.workflow_create(body)
    try:
        answer = await backend.call(backend.workflows.CreateWorkflow, built.request)
    except ApiError as exc:
        raise renamed(exc, built.rest_field) from None
    return JsonResponse(convert.workflow_json(answer.workflow), status_code=201)


VIEWS = {
    "full": workflows_pb2.WORKFLOW_VIEW_FULL,
    "basic": workflows_pb2.WORKFLOW_VIEW_BASIC,
}


@router.get(
    "/workflows/{id}",
    response_model=schemas.Workflow | schemas.WorkflowOutline,
    responses=OBJECT_ERRORS,
    summary="Get a workflow with its tasks and edges",
)
async def get_workflow(
    id: ObjectId,
    backend: BackendDep,
    view: Annotated[
        Literal["full", "basic"],
        Query(
            description="basic: each task outlined (id, name, project_id, "
            "status, status_reason, attempt, exit_code, started_at, finished_at, "
            "blocked_by) "
            "and edges by key, a fraction of full's size; for large workflows."
        ),
    ] = "full",
) -> Response:
    """Return a workflow: status, progress, its tasks by key and its edges."""
    answer = await backend.call(
        backend.workflows.GetWorkflow,
        workflows_pb2.GetWorkflowRequest(id=str(id), view=VIEWS[view]),
    )
    return JsonResponse(
        convert.workflow_json(answer.workflow, outlined=view == "basic")
    )


@router.post(
    "/workflows/{id}/cancel",
    response_model=schemas.Workflow,
    responses=CHANGE_ERRORS,
    summary="Cancel a workflow",
)
async def cancel_workflow(
    id: ObjectId,
    backend: BackendDep,
    body: Annotated[schemas.CancelRequest | None, Body()] = None,
) -> Response:
    """Cancel every task that has not ended; answers once running ones are gone."""
    reason = body.reason if body is not None else ""
    answer = await backend.call(
        backend.workflows.CancelWorkflow,
        workflows_pb2.CancelWorkflowRequest(id=str(id), reason=reason),
    )
    return JsonResponse(convert.workflow_json(answer.workflow))


@router.post(
    "/workflows/{id}/retry",
    response_model=schemas.Workflow,
    responses=CHANGE_ERRORS,
    summary="Run a workflow's failed and cancelled tasks again",
)
async def retry_workflow(id: ObjectId, backend: BackendDep) -> Response:
    """Run the failed and cancelled tasks again, with every task downstream."""
    answer = await backend.call(
        backend.workflows.RetryWorkflow,
        workflows_pb2.RetryWorkflowRequest(id=str(id)),
    )
    return JsonResponse(convert.workflow_json(answer.workflow))
