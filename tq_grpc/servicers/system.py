"""SystemService: server-wide counters and the cheapest round trip."""

from __future__ import annotations

import asyncio
import time
from importlib.metadata import PackageNotFoundError, version

import grpc

from tq_actors import TaskQueueSystem
from tq_grpc import convert
from tq_grpc._gen import system_pb2, system_pb2_grpc
from tq_grpc.errors import unary


def server_version() -> str:
    """Return the installed distribution's version."""
    try:
        return version("task-queue")
    except PackageNotFoundError:
        return "unknown"


class SystemServicer(system_pb2_grpc.SystemServiceServicer):
    """Serves SystemService on a running TaskQueueSystem."""

    def __init__(self, system: TaskQueueSystem) -> None:
        self._system = system
        self._started = time.monotonic()
        self._version = server_version()

    @unary
    async def GetStats(
        self, request: system_pb2.GetStatsRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.GetStatsResponse:
        """Return counters of tasks, projects, queue and slots."""
        stats = await asyncio.to_thread(self._system.stats)
        totals = stats.totals
        assert totals is not None
        return system_pb2.GetStatsResponse(
            tasks_created_total=totals.created,
            tasks_finished_total=totals.finished,
            task_duration_bounds=totals.duration_bounds,
            task_duration_counts=totals.duration_counts,
            task_duration_sum_seconds=totals.duration_sum_seconds,
            tasks_by_status=stats.tasks_by_status,
            total_tasks=sum(stats.tasks_by_status.values()),
            total_projects=stats.total_projects,
            queue_depth=stats.queue_depth,
            running=stats.running,
            slots=stats.slots,
            uptime_seconds=time.monotonic() - self._started,
            version=self._version,
            paused=stats.paused,
        )

    @unary
    async def GetActivity(
        self, request: system_pb2.GetActivityRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.GetActivityResponse:
        """Return finishes per minute over the last hour and the latest events."""
        activity = await asyncio.to_thread(self._system.activity, request.max_events)
        return convert.activity_to_proto(activity)

    @unary
    async def PauseQueue(
        self, request: system_pb2.PauseQueueRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.PauseQueueResponse:
        """Stop dispatching new tasks."""
        paused = await asyncio.wrap_future(self._system.set_paused(True))
        return system_pb2.PauseQueueResponse(paused=paused)

    @unary
    async def ResumeQueue(
        self, request: system_pb2.ResumeQueueRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.ResumeQueueResponse:
        """Dispatch again."""
        paused = await asyncio.wrap_future(self._system.set_paused(False))
        return system_pb2.ResumeQueueResponse(paused=paused)

    @unary
    async def Ping(
        self, request: system_pb2.PingRequest, context: grpc.aio.ServicerContext
    ) -> system_pb2.PingResponse:
        """Answer at once."""
        return system_pb2.PingResponse(
            server_time=convert.timestamp(time.time()), version=self._version
        )
