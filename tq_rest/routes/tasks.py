"""Routes of /tasks: create, read, change, cancel, retry, history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from tq_grpc._gen import tasks_pb2
from tq_rest import convert, schemas
from tq_rest.backend import BackendDep
from tq_rest.errors import CHANGE_ERRORS, COMMON_ERRORS, OBJECT_ERRORS
from tq_rest.jsonio import JsonResponse
from tq_rest.routes.paging import (
    LIST_ALIASES,
    PAGE_HEADERS,
    Cursor,
    Limit,
    ObjectId,
    page_response,
)

router = APIRouter(tags=["tasks"])


@router.get(
    "/tasks",
    response_model=list[schemas.Task],
    responses={**COMMON_ERRORS, 200: {"headers": PAGE_HEADERS}},
    summary="List tasks in creation order",
)
async def list_tasks(
    request: Request,
    backend: BackendDep,
    status: schemas.TaskStatus | None = None,
    project: uuid.UUID | None = None,
    priority: schemas.Priority | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Return one page of tasks; the next page's cursor is in X-Next-Cursor."""
    answer = await backend.call(
        backend.tasks.ListTasks,
        tasks_pb2.ListTasksRequest(
            status=convert.TASK_STATUS.number(status),
            project_id=str(project or ""),
            priority=convert.PRIORITY.number(priority),
            page_size=limit,
            page_token=cursor or "",
        ),
        aliases=LIST_ALIASES,
    )
    return page_response(
        request, convert.tasks_json(answer.tasks), answer.next_page_token
    )


@router.post(
    "/tasks",
    status_code=201,
    response_model=schemas.Task,
    responses=CHANGE_ERRORS,
    summary="Create a task",
)
async def create_task(body: schemas.TaskCreate, backend: BackendDep) -> Response:
    """Store a task; it runs when a slot is free. A repeated key returns the first."""
    answer = await backend.call(
        backend.tasks.CreateTask,
        tasks_pb2.CreateTaskRequest(task=convert.task_spec(body)),
    )
    return JsonResponse(convert.task_json(answer.task), status_code=201)


@router.get(
    "/tasks/{id}",
    response_model=schemas.Task,
    responses=OBJECT_ERRORS,
    summary="Get a task",
)
async def get_task(id: ObjectId, backend: BackendDep) -> Response:
    """Return a task's current state."""
    answer = await backend.call(
        backend.tasks.GetTask, tasks_pb2.GetTaskRequest(id=str(id))
    )
    return JsonResponse(convert.task_json(answer.task))


@router.put(
    "/tasks/{id}",
    response_model=schemas.Task,
    responses=CHANGE_ERRORS,
    summary="Change a task that has not started",
)
async def update_task(
    id: ObjectId, body: schemas.TaskUpdate, backend: BackendDep
) -> Response:
    """Change the given fields of a task not yet started; the others are kept.

    ``depends_on`` replaces the dependencies (a change that would close a
    cycle is refused); ``"start_after": null`` removes a delayed start.
    """
    answer = await backend.call(
        backend.tasks.UpdateTask, convert.task_update(str(id), body)
    )
    return JsonResponse(convert.task_json(answer.task))


@router.delete(
    "/tasks/{id}",
    response_model=schemas.TaskDeleted,
    responses=CHANGE_ERRORS,
    summary="Delete a task that is not running",
)
async def delete_task(
    id: ObjectId,
    backend: BackendDep,
    cascade: Annotated[
        bool,
        Query(
            description="Also delete every task that depends on it, transitively; "
            "without it, a task others depend on is refused (409)."
        ),
    ] = False,
) -> Response:
    """Delete a task with its history and output."""
    answer = await backend.call(
        backend.tasks.DeleteTask,
        tasks_pb2.DeleteTaskRequest(id=str(id), cascade=cascade),
    )
    return JsonResponse(
        {
            "id": answer.id,
            "deleted": True,
            "deleted_ids": list(answer.deleted_ids) or [answer.id],
        }
    )


@router.post(
    "/tasks/{id}/cancel",
    response_model=schemas.Task,
    responses=CHANGE_ERRORS,
    summary="Cancel a task",
)
async def cancel_task(
    id: ObjectId,
    backend: BackendDep,
    body: Annotated[schemas.CancelRequest | None, Body()] = None,
) -> Response:
    """Cancel a task; a running one's process group is ended first."""
    reason = body.reason if body is not None else ""
    answer = await backend.call(
        backend.tasks.CancelTask,
        tasks_pb2.CancelTaskRequest(id=str(id), reason=reason),
    )
    return JsonResponse(convert.task_json(answer.task))


@router.post(
    "/tasks/{id}/retry",
    response_model=schemas.Task,
    responses=CHANGE_ERRORS,
    summary="Run a settled task again",
)
async def retry_task(id: ObjectId, backend: BackendDep) -> Response:
    """Queue a completed, failed or cancelled task again as a new attempt."""
    answer = await backend.call(
        backend.tasks.RetryTask, tasks_pb2.RetryTaskRequest(id=str(id))
    )
    return JsonResponse(convert.task_json(answer.task))


@router.get(
    "/tasks/{id}/history",
    response_model=list[schemas.TaskEvent],
    responses=OBJECT_ERRORS,
    summary="List a task's transitions",
)
async def task_history(id: ObjectId, backend: BackendDep) -> Response:
    """Return every transition of a task, oldest first."""
    answer = await backend.call(
        backend.tasks.GetTaskHistory, tasks_pb2.GetTaskHistoryRequest(id=str(id))
    )
    return JsonResponse([convert.event_json(event) for event in answer.events])
