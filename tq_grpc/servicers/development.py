"""DevelopmentService: the gated development workflow of a task."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

import grpc

from tq_actors import FailedPrecondition, Phase, Task, TaskQueueSystem
from tq_grpc import convert
from tq_grpc._gen import development_pb2, development_pb2_grpc
from tq_grpc.errors import unary

D = development_pb2


class DevelopmentServicer(development_pb2_grpc.DevelopmentServiceServicer):
    """Serves DevelopmentService; every answer carries the current guidance."""

    def __init__(self, system: TaskQueueSystem) -> None:
        self._system = system

    @unary
    async def GetDevelopmentWorkflow(
        self,
        request: D.GetDevelopmentWorkflowRequest,
        context: grpc.aio.ServicerContext,
    ) -> D.GetDevelopmentWorkflowResponse:
        """Return a task's workflow, its guidance and unmet gates."""
        task = self._system.get_task(request.task_id)
        return D.GetDevelopmentWorkflowResponse(workflow=self._workflow_of(task))

    @unary
    async def AdvancePhase(
        self, request: D.AdvancePhaseRequest, context: grpc.aio.ServicerContext
    ) -> D.AdvancePhaseResponse:
        """Move to the next phase once its gate is met."""
        from_phase = convert.enum_in(Phase, request.from_phase, "from_phase", None)
        future = self._system.advance_phase(request.task_id, from_phase)
        return D.AdvancePhaseResponse(workflow=await self._answer(future))

    @unary
    async def SetTechnicalDocumentation(
        self,
        request: D.SetTechnicalDocumentationRequest,
        context: grpc.aio.ServicerContext,
    ) -> D.SetTechnicalDocumentationResponse:
        """Record the design document's path."""
        future = self._system.set_documentation(request.task_id, request.path)
        return D.SetTechnicalDocumentationResponse(workflow=await self._answer(future))

    @unary
    async def SetTestCoverage(
        self, request: D.SetTestCoverageRequest, context: grpc.aio.ServicerContext
    ) -> D.SetTestCoverageResponse:
        """Record the measured coverage."""
        future = self._system.set_coverage(request.task_id, request.coverage_percentage)
        return D.SetTestCoverageResponse(workflow=await self._answer(future))

    @unary
    async def AddReview(
        self, request: D.AddReviewRequest, context: grpc.aio.ServicerContext
    ) -> D.AddReviewResponse:
        """Record one model's review."""
        review = convert.review_from_proto(request)
        future = self._system.add_review(request.task_id, review)
        return D.AddReviewResponse(workflow=await self._answer(future))

    @unary
    async def FailDevelopment(
        self, request: D.FailDevelopmentRequest, context: grpc.aio.ServicerContext
    ) -> D.FailDevelopmentResponse:
        """End the workflow as failed."""
        future = self._system.fail_development(request.task_id, request.reason)
        return D.FailDevelopmentResponse(workflow=await self._answer(future))

    @unary
    async def ReopenDevelopment(
        self, request: D.ReopenDevelopmentRequest, context: grpc.aio.ServicerContext
    ) -> D.ReopenDevelopmentResponse:
        """Take an ended workflow back to implementation."""
        future = self._system.reopen_development(request.task_id)
        return D.ReopenDevelopmentResponse(workflow=await self._answer(future))

    async def _answer(self, future: Future[Task]) -> D.DevelopmentWorkflow:
        task = await asyncio.wrap_future(future)
        return self._workflow_of(self._system.explain([task])[0])

    def _workflow_of(self, task: Task) -> D.DevelopmentWorkflow:
        message = convert.development_to_proto(task)
        if message is None:
            raise FailedPrecondition(
                f"Task {task.id} is not under the development workflow."
            )
        return message
