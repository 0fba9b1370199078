"""Tools that create and read projects."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from tq_grpc._gen import projects_pb2
from tq_mcp import convert, models
from tq_mcp.arguments import (
    DEFAULT_LIMIT,
    INT32_MAX,
    Cursor,
    Int32,
    Limit,
    ProjectId,
    ProjectStatus,
    Tags,
    Text,
)
from tq_mcp.gateway import Gateway

PROJECT_ALIASES = {"id": "project_id"}
LIST_ALIASES = {"page_token": "cursor", "page_size": "limit"}

Coverage = Annotated[
    float,
    Strict(),
    Field(ge=0, le=100, allow_inf_nan=False, description="Percent; default 90."),
]
Reviews = Annotated[
    int,
    Strict(),
    Field(ge=0, le=INT32_MAX, description="Approving models needed; default 3."),
]


class ProjectTools:
    """The project tools, bound to one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def create_project(
        self,
        name: Annotated[Text, Field(description="1-256 characters.")],
        description: Text = "",
        status: Annotated[
            ProjectStatus | None, Field(description="Default: active.")
        ] = None,
        parent_id: Annotated[
            ProjectId | None, Field(description="Nest under this project.")
        ] = None,
        tags: Tags | None = None,
        max_parallel: Annotated[
            Int32, Field(description="Tasks running at once; 0: no limit.")
        ] = 0,
        coverage_threshold: Coverage | None = None,
        required_reviews: Reviews | None = None,
    ) -> models.Project:
        """Create a project. Its coverage_threshold and required_reviews are
        the development workflow's gates for its tasks."""
        request = projects_pb2.CreateProjectRequest(
            name=name,
            description=description,
            status=convert.project_status_number(status),
            parent_id=parent_id or "",
            tags=tags or [],
            max_parallel=max_parallel,
        )
        if coverage_threshold is not None:
            request.coverage_threshold = coverage_threshold
        if required_reviews is not None:
            request.required_reviews = required_reviews
        answer = await self._gateway.call(self._gateway.projects.CreateProject, request)
        return convert.project(answer.project)

    async def get_project(self, project_id: ProjectId) -> models.Project:
        """Get a project."""
        answer = await self._gateway.call(
            self._gateway.projects.GetProject,
            projects_pb2.GetProjectRequest(id=project_id),
            aliases=PROJECT_ALIASES,
        )
        return convert.project(answer.project)

    async def list_projects(
        self, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> models.ProjectPage:
        """List projects in creation order; page on with next_cursor."""
        answer = await self._gateway.call(
            self._gateway.projects.ListProjects,
            projects_pb2.ListProjectsRequest(page_size=limit, page_token=cursor or ""),
            aliases=LIST_ALIASES,
        )
        return models.ProjectPage(
            projects=[convert.project(p) for p in answer.projects],
            next_cursor=answer.next_page_token or None,
        )
