"""Tools that create and read workflows (dependency graphs of tasks)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field

from tq_grpc._gen import tasks_pb2, workflows_pb2
from tq_mcp import convert, models
from tq_mcp.arguments import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    ProjectId,
    Text,
    WorkflowId,
    WorkflowTaskIn,
)
from tq_mcp.errors import ToolFailure
from tq_mcp.gateway import Gateway

MAX_WORKFLOW_TASKS = 10_000
WORKFLOW_ALIASES = {"id": "workflow_id"}
# How the request names the two kinds of edges of workflow task i.
KEY_EDGE = "depends_on"
OUTSIDE_EDGE = "task.depends_on"
_EDGE_FIELD = re.compile(r"^(tasks\[\d+\]\.(?:task\.)?depends_on\[\d+\])(.*)$")
_TASK_FIELD = re.compile(r"^(tasks\[\d+\])\.task\.(.*)$")

WorkflowTasks = Annotated[
    list[WorkflowTaskIn],
    Field(
        min_length=1,
        max_length=MAX_WORKFLOW_TASKS,
        description="The tasks, each with a unique key; depends_on names keys.",
    ),
]


@dataclass
class WorkflowRequest:
    """A CreateWorkflowRequest, and how to name its fields as the agent did.

    A workflow task lists every dependency in one ``depends_on``; the request
    splits them into key edges (``tasks[i].depends_on``) and edges to tasks
    outside (``tasks[i].task.depends_on``), so an index the server names in
    an error is turned back into the one the agent sent.
    """

    request: workflows_pb2.CreateWorkflowRequest
    # Request edge path -> argument edge path.
    renames: dict[str, str] = field(default_factory=dict)

    def argument_path(self, name: str) -> str:
        """Return the argument path of a field the server named."""
        edge = _EDGE_FIELD.match(name)
        if edge is not None and edge.group(1) in self.renames:
            return self.renames[edge.group(1)] + edge.group(2)
        nested = _TASK_FIELD.match(name)
        if nested is not None:
            return f"{nested.group(1)}.{nested.group(2)}"
        return name


def workflow_request(
    name: str, description: str, project_id: str, tasks: list[WorkflowTaskIn]
) -> WorkflowRequest:
    """Return the CreateWorkflowRequest of create_workflow's arguments."""
    request = workflows_pb2.CreateWorkflowRequest(
        name=name, description=description, project_id=project_id
    )
    renames: dict[str, str] = {}
    for i, item in enumerate(tasks):
        outside = [(n, d) for n, d in enumerate(item.depends_on) if d.key is None]
        inside = [(n, d) for n, d in enumerate(item.depends_on) if d.key is not None]
        for kind, edges in ((OUTSIDE_EDGE, outside), (KEY_EDGE, inside)):
            for j, (n, _) in enumerate(edges):
                renames[f"tasks[{i}].{kind}[{j}]"] = f"tasks[{i}].depends_on[{n}]"
        spec = tasks_pb2.TaskSpec(
            name=item.name or "",
            command=item.command,
            description=item.description,
            project_id=item.project_id or "",
            priority=convert.priority_number(item.priority),
            depends_on=[
                tasks_pb2.Dependency(
                    task_id=d.task_id or "",
                    condition=convert.condition_number(d.condition),
                )
                for _, d in outside
            ],
            working_dir=item.working_dir or "",
            env=item.env,
            timeout_seconds=item.timeout_seconds,
            max_retries=item.max_retries,
            retry_delay_seconds=item.retry_delay_seconds,
            tags=item.tags,
            idempotency_key=item.idempotency_key or "",
            development_workflow=item.development_workflow,
        )
        if item.start_after is not None:
            spec.start_after.CopyFrom(convert.timestamp(item.start_after))
        request.tasks.append(
            workflows_pb2.WorkflowTaskSpec(
                key=item.key,
                task=spec,
                depends_on=[
                    workflows_pb2.WorkflowDependency(
                        key=d.key or "",
                        condition=convert.condition_number(d.condition),
                    )
                    for _, d in inside
                ],
            )
        )
    return WorkflowRequest(request, renames)


class WorkflowTools:
    """The workflow tools, bound to one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def create_workflow(
        self,
        name: Annotated[Text, Field(description="1-256 characters.")],
        tasks: WorkflowTasks,
        project_id: Annotated[
            ProjectId | None, Field(description="Default project of its tasks.")
        ] = None,
        description: Text = "",
    ) -> models.Workflow:
        """Create a workflow: every task and edge in one atomic write, checked
        as a DAG. Same document as REST POST /workflows; its tasks do not
        enter the development workflow unless they say so. Answers the first
        50 tasks."""
        built = workflow_request(name, description, project_id or "", tasks)
        try:
            answer = await self._gateway.call(
                self._gateway.workflows.CreateWorkflow, built.request
            )
        except ToolFailure as failure:
            if failure.field is None:
                raise
            raise failure.renamed(built.argument_path(failure.field)) from None
        return convert.workflow(answer.workflow, start=0, limit=DEFAULT_LIMIT)

    async def get_workflow(
        self,
        workflow_id: WorkflowId,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> models.Workflow:
        """Get a workflow: status, progress and one page of its tasks (by key,
        with their edges); page on with next_cursor."""
        start = _position(cursor)
        answer = await self._gateway.call(
            self._gateway.workflows.GetWorkflow,
            workflows_pb2.GetWorkflowRequest(id=workflow_id),
            aliases=WORKFLOW_ALIASES,
        )
        return convert.workflow(answer.workflow, start=start, limit=limit)


def _position(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 9:
        raise ToolFailure(
            "invalid_argument",
            "cursor: is not a cursor get_workflow issued.",
            field="cursor",
        )
    return int(cursor)
