"""Routes of /projects: create, read, change, delete, list their tasks."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tq_grpc._gen import projects_pb2
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

router = APIRouter(tags=["projects"])


@router.get(
    "/projects",
    response_model=list[schemas.Project],
    responses={**COMMON_ERRORS, 200: {"headers": PAGE_HEADERS}},
    summary="List projects in creation order",
)
async def list_projects(
    request: Request, backend: BackendDep, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    """Return one page of projects; the next page's cursor is in X-Next-Cursor."""
    answer = await backend.call(
        backend.projects.ListProjects,
        projects_pb2.ListProjectsRequest(page_size=limit, page_token=cursor or ""),
        aliases=LIST_ALIASES,
    )
    projects = [convert.project_json(p) for p in answer.projects]
    return page_response(request, projects, answer.next_page_token)


@router.post(
    "/projects",
    status_code=201,
    response_model=schemas.Project,
    responses=CHANGE_ERRORS,
    summary="Create a project",
)
async def create_project(body: schemas.ProjectCreate, backend: BackendDep) -> Response:
    """Store a project; its status defaults to active."""
    answer = await backend.call(
        backend.projects.CreateProject, convert.project_create(body)
    )
    return JsonResponse(convert.project_json(answer.project), status_code=201)


@router.get(
    "/projects/{id}",
    response_model=schemas.Project,
    responses=OBJECT_ERRORS,
    summary="Get a project",
)
async def get_project(id: ObjectId, backend: BackendDep) -> Response:
    """Return a project."""
    answer = await backend.call(
        backend.projects.GetProject, projects_pb2.GetProjectRequest(id=str(id))
    )
    return JsonResponse(convert.project_json(answer.project))


@router.put(
    "/projects/{id}",
    response_model=schemas.Project,
    responses=CHANGE_ERRORS,
    summary="Change a project",
)
async def update_project(
    id: ObjectId, body: schemas.ProjectUpdate, backend: BackendDep
) -> Response:
    """Change the given fields of a project; the others keep their value."""
    answer = await backend.call(
        backend.projects.UpdateProject, convert.project_update(str(id), body)
    )
    return JsonResponse(convert.project_json(answer.project))


@router.delete(
    "/projects/{id}",
    response_model=schemas.ProjectDeleted,
    responses=CHANGE_ERRORS,
    summary="Delete a project",
)
async def delete_project(
    id: ObjectId, backend: BackendDep, cascade: bool = False
) -> Response:
    """Delete a project; one with tasks only with cascade=true, which deletes them."""
    answer = await backend.call(
        backend.projects.DeleteProject,
        projects_pb2.DeleteProjectRequest(id=str(id), cascade=cascade),
    )
    return JsonResponse(
        {"id": answer.id, "deleted": True, "deleted_tasks": answer.deleted_tasks}
    )


@router.get(
    "/projects/{id}/tasks",
    response_model=list[schemas.Task],
    responses={**OBJECT_ERRORS, 200: {"headers": PAGE_HEADERS}},
    summary="List a project's tasks",
)
async def project_tasks(
    request: Request,
    id: ObjectId,
    backend: BackendDep,
    status: schemas.TaskStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """Return one page of a project's tasks in creation order."""
    answer = await backend.call(
        backend.projects.ListProjectTasks,
        projects_pb2.ListProjectTasksRequest(
            id=str(id),
            status=convert.TASK_STATUS.number(status),
            page_size=limit,
            page_token=cursor or "",
        ),
        aliases=LIST_ALIASES,
    )
    return page_response(
        request, convert.tasks_json(answer.tasks), answer.next_page_token
    )
