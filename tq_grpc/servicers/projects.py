"""ProjectService: convert, ask the actors, convert back."""

from __future__ import annotations

import asyncio

import grpc

from tq_actors import Project, TaskQueueSystem
from tq_grpc import convert
from tq_grpc._gen import projects_pb2, projects_pb2_grpc
from tq_grpc.errors import unary


class ProjectServicer(projects_pb2_grpc.ProjectServiceServicer):
    """Serves ProjectService on a running TaskQueueSystem."""

    def __init__(self, system: TaskQueueSystem) -> None:
        self._system = system

    async def _with_counts(self, project: Project) -> projects_pb2.Project:
        """Return the wire form of project with its tasks per status."""
        counts = await asyncio.wrap_future(self._system.project_counts([project.id]))
        return convert.project_to_proto(project, counts[project.id])

    @unary
    async def CreateProject(
        self,
        request: projects_pb2.CreateProjectRequest,
        context: grpc.aio.ServicerContext,
    ) -> projects_pb2.CreateProjectResponse:
        """Create a project."""
        spec = convert.project_spec_from_proto(request)
        project = await asyncio.wrap_future(self._system.create_project(spec))
        return projects_pb2.CreateProjectResponse(
            project=await self._with_counts(project)
        )

    @unary
    async def GetProject(
        self, request: projects_pb2.GetProjectRequest, context: grpc.aio.ServicerContext
    ) -> projects_pb2.GetProjectResponse:
        """Return one project."""
        project = self._system.get_project(request.id)
        return projects_pb2.GetProjectResponse(project=await self._with_counts(project))

    @unary
    async def ListProjects(
        self,
        request: projects_pb2.ListProjectsRequest,
        context: grpc.aio.ServicerContext,
    ) -> projects_pb2.ListProjectsResponse:
        """Return one page of projects."""
        projects, token = await asyncio.to_thread(
            self._system.list_projects,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        ids = [p.id for p in projects]
        counts = await asyncio.wrap_future(self._system.project_counts(ids))
        return projects_pb2.ListProjectsResponse(
            projects=[convert.project_to_proto(p, counts[p.id]) for p in projects],
            next_page_token=token,
        )

    @unary
    async def UpdateProject(
        self,
        request: projects_pb2.UpdateProjectRequest,
        context: grpc.aio.ServicerContext,
    ) -> projects_pb2.UpdateProjectResponse:
        """Change a project."""
        changes = convert.project_changes_from_update(request)
        future = self._system.update_project(request.id, changes)
        project = await asyncio.wrap_future(future)
        return projects_pb2.UpdateProjectResponse(
            project=await self._with_counts(project)
        )

    @unary
    async def DeleteProject(
        self,
        request: projects_pb2.DeleteProjectRequest,
        context: grpc.aio.ServicerContext,
    ) -> projects_pb2.DeleteProjectResponse:
        """Delete a project, and with cascade its tasks."""
        removed = await asyncio.to_thread(
            self._system.delete_project, request.id, cascade=request.cascade
        )
        return projects_pb2.DeleteProjectResponse(id=request.id, deleted_tasks=removed)

    @unary
    async def ListProjectTasks(
        self,
        request: projects_pb2.ListProjectTasksRequest,
        context: grpc.aio.ServicerContext,
    ) -> projects_pb2.ListProjectTasksResponse:
        """Return one page of a project's tasks."""
        tasks, token = await asyncio.to_thread(
            self._system.list_project_tasks,
            request.id,
            status=convert.status_filter(request.status),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return projects_pb2.ListProjectTasksResponse(
            tasks=[convert.task_to_proto(task) for task in tasks],
            next_page_token=token,
        )
