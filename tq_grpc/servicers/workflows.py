"""WorkflowService: dependency graphs of tasks submitted as one unit."""

from __future__ import annotations

import asyncio

import grpc

from tq_actors import InvalidArgument, TaskQueueSystem
from tq_grpc import convert
from tq_grpc._gen import workflows_pb2, workflows_pb2_grpc
from tq_grpc.errors import unary


class WorkflowServicer(workflows_pb2_grpc.WorkflowServiceServicer):
    """Serves WorkflowService on a running TaskQueueSystem.

    Workflows can hold thousands of tasks: conversions and reads run off the
    event loop so that other calls keep being answered.
    """

    def __init__(self, system: TaskQueueSystem) -> None:
        self._system = system

    @unary
    async def CreateWorkflow(
        self,
        request: workflows_pb2.CreateWorkflowRequest,
        context: grpc.aio.ServicerContext,
    ) -> workflows_pb2.CreateWorkflowResponse:
        """Validate and store a workflow with its tasks in one atomic write."""
        if not request.tasks:
            raise InvalidArgument("tasks", "at least one task is required.")
        spec = await asyncio.to_thread(convert.workflow_spec_from_proto, request)
        future = await asyncio.to_thread(self._system.create_workflow, spec)
        view = await asyncio.wrap_future(future)
        view = await asyncio.to_thread(self._system.explain_view, view)
        message = await asyncio.to_thread(convert.workflow_to_proto, view)
        return workflows_pb2.CreateWorkflowResponse(workflow=message)

    @unary
    async def GetWorkflow(
        self,
        request: workflows_pb2.GetWorkflowRequest,
        context: grpc.aio.ServicerContext,
    ) -> workflows_pb2.GetWorkflowResponse:
        """Return a workflow with its tasks (in full or outlined), edges and status."""
        if request.view not in workflows_pb2.WorkflowView.values():
            raise InvalidArgument("view", f"{request.view} is not a valid view.")
        basic = request.view == workflows_pb2.WORKFLOW_VIEW_BASIC
        return workflows_pb2.GetWorkflowResponse(
            workflow=await self._read(request.id, basic=basic)
        )

    @unary
    async def ListWorkflows(
        self,
        request: workflows_pb2.ListWorkflowsRequest,
        context: grpc.aio.ServicerContext,
    ) -> workflows_pb2.ListWorkflowsResponse:
        """Return one page of workflows without their tasks."""
        views, token = await asyncio.to_thread(
            self._system.list_workflows,
            project_id=request.project_id,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return workflows_pb2.ListWorkflowsResponse(
            workflows=[convert.workflow_to_proto(view) for view in views],
            next_page_token=token,
        )

    @unary
    async def CancelWorkflow(
        self,
        request: workflows_pb2.CancelWorkflowRequest,
        context: grpc.aio.ServicerContext,
    ) -> workflows_pb2.CancelWorkflowResponse:
        """Cancel every unfinished task; answer once running ones are gone."""
        future = self._system.cancel_workflow(request.id, request.reason)
        await asyncio.wrap_future(future)
        return workflows_pb2.CancelWorkflowResponse(
            workflow=await self._read(request.id)
        )

    @unary
    async def RetryWorkflow(
        self,
        request: workflows_pb2.RetryWorkflowRequest,
        context: grpc.aio.ServicerContext,
    ) -> workflows_pb2.RetryWorkflowResponse:
        """Run failed and cancelled tasks again, with every task downstream."""
        await asyncio.wrap_future(self._system.retry_workflow(request.id))
        return workflows_pb2.RetryWorkflowResponse(
            workflow=await self._read(request.id)
        )

    async def _read(
        self, workflow_id: str, *, basic: bool = False
    ) -> workflows_pb2.Workflow:
        view = await asyncio.to_thread(
            self._system.get_workflow, workflow_id, basic=basic
        )
        return await asyncio.to_thread(convert.workflow_to_proto, view)
