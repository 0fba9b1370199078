"""Routes of /queue: whether the queue dispatches, and pausing it."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tq_grpc._gen import system_pb2
from tq_rest import schemas
from tq_rest.backend import BackendDep
from tq_rest.errors import COMMON_ERRORS
from tq_rest.jsonio import JsonResponse

router = APIRouter(tags=["queue"])


@router.get(
    "/queue",
    response_model=schemas.QueueState,
    responses=COMMON_ERRORS,
    summary="Whether the queue is paused",
)
async def queue_state(backend: BackendDep) -> Response:
    """Return whether the queue is paused."""
    answer = await backend.call(backend.system.GetStats, system_pb2.GetStatsRequest())
    return JsonResponse({"paused": answer.paused})


@router.post(
    "/queue/pause",
    response_model=schemas.QueueState,
    responses=COMMON_ERRORS,
    summary="Pause the queue",
)
async def pause_queue(backend: BackendDep) -> Response:
    """Stop dispatching new tasks; running ones go on. Kept across restarts."""
    answer = await backend.call(
        backend.system.PauseQueue, system_pb2.PauseQueueRequest()
    )
    return JsonResponse({"paused": answer.paused})


@router.post(
    "/queue/resume",
    response_model=schemas.QueueState,
    responses=COMMON_ERRORS,
    summary="Resume the queue",
)
async def resume_queue(backend: BackendDep) -> Response:
    """Dispatch again: waiting tasks start as slots allow."""
    answer = await backend.call(
        backend.system.ResumeQueue, system_pb2.ResumeQueueRequest()
    )
    return JsonResponse({"paused": answer.paused})
