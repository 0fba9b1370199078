"""Prometheus metrics of one REST app, in a registry of its own.

Counters and the task-duration histogram are fed by a WatchEvents
subscription that runs for the app's lifetime; the gauges are refreshed from
GetStats at each scrape; the latency histogram is fed by the access log.
"""

from __future__ import annotations

import asyncio
import logging

import grpc
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from tq_grpc._gen import system_pb2, tasks_pb2
from tq_rest.backend import Backend
from tq_rest.convert import TASK_STATUS

logger = logging.getLogger(__name__)

FINISHED = ("completed", "failed", "cancelled")
RETRY_SECONDS_MIN = 0.5
RETRY_SECONDS_MAX = 30.0
MAX_TRACKED_RUNS = 100_000
TASK_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400)


class Metrics:
    """Every metric the REST app exposes at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.tasks_created = Counter(
            "taskqueue_tasks_created", "Tasks created.", registry=registry
        )
        self.tasks_finished = Counter(
            "taskqueue_tasks_finished",
            "Tasks that reached a final status, by status.",
            ["status"],
            registry=registry,
        )
        self.task_duration = Histogram(
            "taskqueue_task_duration_seconds",
            "Run time of tasks, from start to end.",
            buckets=TASK_DURATION_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "taskqueue_queue_depth",
            "Tasks ready to run and waiting for a slot.",
            registry=registry,
        )
        self.running = Gauge(
            "taskqueue_tasks_running", "Tasks running now.", registry=registry
        )
        self.slots = Gauge(
            "taskqueue_slots", "Tasks that may run at once.", registry=registry
        )
        self.tasks = Gauge(
            "taskqueue_tasks", "Stored tasks, by status.", ["status"], registry=registry
        )
        self.backend_up = Gauge(
            "taskqueue_backend_up",
            "1 when the gRPC service answered the last scrape, else 0.",
            registry=registry,
        )
        self.request_duration = Histogram(
            "taskqueue_http_request_duration_seconds",
            "Time to answer REST requests, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        for status in FINISHED:
            self.tasks_finished.labels(status=status)
        self._started_at: dict[str, float] = {}

    def observe_event(self, event: tasks_pb2.TaskEvent) -> None:
        """Count a task transition."""
        if event.deleted:
            self._started_at.pop(event.task_id, None)
            return
        to_status = TASK_STATUS.name(event.to_status)
        if event.from_status == 0:
            self.tasks_created.inc()
        at = event.at.seconds + event.at.nanos / 1e9
        if to_status == "running":
            self._track_start(event.task_id, at)
        elif to_status in FINISHED:
            self.tasks_finished.labels(status=to_status).inc()
            started = self._started_at.pop(event.task_id, None)
            if started is not None:
                self.task_duration.observe(max(at - started, 0.0))

    def observe_stats(self, stats: system_pb2.GetStatsResponse | None) -> None:
        """Set the gauges from GetStats; None when the call failed."""
        self.backend_up.set(0 if stats is None else 1)
        if stats is None:
            return
        self.queue_depth.set(stats.queue_depth)
        self.running.set(stats.running)
        self.slots.set(stats.slots)
        for status, count in stats.tasks_by_status.items():
            self.tasks.labels(status=status).set(count)

    def observe_request(
        self, method: str, route: str, status: int, seconds: float
    ) -> None:
        """Record the latency of one REST request."""
        self.request_duration.labels(method, route, str(status)).observe(seconds)

    def render(self) -> bytes:
        """Return every metric in the Prometheus text format."""
        return generate_latest(self.registry)

    async def watch(self, backend: Backend) -> None:
        """Feed the counters from WatchEvents until cancelled; reconnect on loss."""
        delay = RETRY_SECONDS_MIN
        while True:
            call = backend.stream(
                backend.tasks.WatchEvents, tasks_pb2.WatchEventsRequest()
            )
            try:
                async for answer in call:
                    delay = RETRY_SECONDS_MIN
                    self.observe_event(answer.event)
            except grpc.aio.AioRpcError as exc:
                logger.warning(
                    "Metrics: event stream lost (%s); reconnecting in %.1fs",
                    exc.code().name,
                    delay,
                )
            finally:
                call.cancel()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_SECONDS_MAX)

    def _track_start(self, task_id: str, at: float) -> None:
        if len(self._started_at) >= MAX_TRACKED_RUNS:
            self._started_at.pop(next(iter(self._started_at)))
        self._started_at[task_id] = at
