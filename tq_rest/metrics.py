"""Prometheus metrics of one REST app, in a registry of its own.

Task counters and the task-duration histogram are kept by the server and
read from GetStats at each scrape, like the gauges; the request-latency
histogram is fed by the access log.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from tq_grpc._gen import system_pb2

logger = logging.getLogger(__name__)

FINISHED = ("completed", "failed", "cancelled")


class _ServerTotals(Collector):
    """Renders the server's own counters from the last GetStats answer."""

    def __init__(self) -> None:
        self.stats: system_pb2.GetStatsResponse | None = None

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        """Yield the task counters and the duration histogram."""
        stats = self.stats or system_pb2.GetStatsResponse()
        yield CounterMetricFamily(
            "taskqueue_tasks_created",
            "Tasks created since the server started.",
            value=stats.tasks_created_total,
        )
        finished = CounterMetricFamily(
            "taskqueue_tasks_finished",
            "Runs that reached a final status since the server started, by status.",
            labels=["status"],
        )
        for status in FINISHED:
            finished.add_metric([status], stats.tasks_finished_total.get(status, 0))
        yield finished
        yield _duration_histogram(stats)


def _duration_histogram(stats: system_pb2.GetStatsResponse) -> HistogramMetricFamily:
    bounds = [*map(str, stats.task_duration_bounds), "+Inf"]
    counts = list(stats.task_duration_counts) or [0] * len(bounds)
    cumulative = list(itertools.accumulate(counts))
    return HistogramMetricFamily(
        "taskqueue_task_duration_seconds",
        "Run time of tasks, from start to end.",
        buckets=list(zip(bounds, cumulative, strict=False)),
        sum_value=stats.task_duration_sum_seconds,
    )


class Metrics:
    """Every metric the REST app exposes at /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._totals = _ServerTotals()
        registry.register(self._totals)
        self.queue_depth = Gauge(
            "taskqueue_queue_depth",
            "Tasks queued to run, including those a project limit holds back.",
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

    def observe_stats(self, stats: system_pb2.GetStatsResponse | None) -> None:
        """Take the server's counters from GetStats; None when the call failed."""
        self.backend_up.set(0 if stats is None else 1)
        if stats is None:
            return
        self._totals.stats = stats
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
