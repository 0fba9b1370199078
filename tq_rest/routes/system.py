"""Server-wide routes: /stats, /activity, /health and /metrics."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from tq_grpc._gen import system_pb2
from tq_rest import convert, schemas
from tq_rest.backend import BackendDep
from tq_rest.errors import COMMON_ERRORS, ApiError
from tq_rest.guard import authorized
from tq_rest.jsonio import JsonResponse
from tq_rest.metrics import Metrics

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 3.0

router = APIRouter(tags=["system"])


@router.get(
    "/stats",
    response_model=schemas.Stats,
    responses=COMMON_ERRORS,
    summary="Server-wide counters",
)
async def stats(backend: BackendDep) -> Response:
    """Return task counts by status, projects, queue depth, slots and uptime."""
    answer = await backend.call(backend.system.GetStats, system_pb2.GetStatsRequest())
    return JsonResponse(convert.stats_json(answer))


@router.get(
    "/activity",
    response_model=schemas.Activity,
    responses=COMMON_ERRORS,
    summary="Finished tasks per minute over the last hour, and recent events",
)
async def activity(
    backend: BackendDep,
    max_events: Annotated[
        int,
        Query(
            ge=0,
            le=2**31 - 1,
            description="How many recent task events: 0 means 50, more than "
            "500 is cut to 500.",
        ),
    ] = 50,
) -> Response:
    """Return finishes per minute (oldest first) and the latest events (newest first).

    The server keeps both in memory from its start (``since``).
    """
    answer = await backend.call(
        backend.system.GetActivity,
        system_pb2.GetActivityRequest(max_events=max_events),
    )
    return JsonResponse(convert.activity_json(answer))


@router.get(
    "/health",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "gRPC is unreachable."}},
    summary="Liveness (no API key needed)",
)
async def health(request: Request, backend: BackendDep) -> Response:
    """Say whether the server answers; version and uptime only with a valid key."""
    settings = request.app.state.settings
    detailed = authorized(request.headers, settings.api_key)
    try:
        if detailed:
            answer = await backend.call(
                backend.system.GetStats,
                system_pb2.GetStatsRequest(),
                timeout_seconds=HEALTH_TIMEOUT_SECONDS,
            )
        else:
            await backend.call(
                backend.system.Ping,
                system_pb2.PingRequest(),
                timeout_seconds=HEALTH_TIMEOUT_SECONDS,
            )
    except ApiError:
        return JsonResponse({"status": "unavailable"}, status_code=503)
    if not detailed:
        return JsonResponse({"status": "ok"})
    return JsonResponse(
        {
            "status": "ok",
            "version": answer.version,
            "uptime_seconds": answer.uptime_seconds,
        }
    )


metrics_router = APIRouter(tags=["system"])


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={
        **COMMON_ERRORS,
        200: {
            "description": "Prometheus text exposition format.",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        },
    },
    summary="Prometheus metrics",
)
async def metrics(request: Request, backend: BackendDep) -> Response:
    """Return counters, gauges and histograms in the Prometheus text format."""
    collected: Metrics = request.app.state.metrics
    try:
        answer = await backend.call(
            backend.system.GetStats, system_pb2.GetStatsRequest()
        )
    except ApiError as exc:
        logger.info("Metrics: gauges not refreshed (%s)", exc.code)
        collected.observe_stats(None)
    else:
        collected.observe_stats(answer)
    return Response(collected.render(), media_type=CONTENT_TYPE_LATEST)
