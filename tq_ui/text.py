"""How the dashboard writes enums, times and sizes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from tq_grpc._gen import common_pb2, development_pb2, tasks_pb2, workflows_pb2

TASK_STATUSES = (
    "pending",
    "waiting_for_dependencies",
    "running",
    "completed",
    "failed",
    "cancelled",
)
TERMINAL = frozenset({"completed", "failed", "cancelled"})
PRIORITIES = ("low", "normal", "high", "critical")
PROJECT_STATUSES = ("planning", "active", "on_hold", "completed", "cancelled")
CONDITIONS = ("success", "failure", "completion")
PHASES = (
    "planning",
    "implementation",
    "test_creation",
    "testing",
    "ai_review",
    "completed",
)

# Quasar colour names, one per status.
STATUS_COLORS = {
    "pending": "blue-grey-5",
    "waiting_for_dependencies": "amber-8",
    "running": "blue-7",
    "completed": "green-7",
    "failed": "red-7",
    "cancelled": "grey-6",
    "unspecified": "grey-5",
}
# The same colours as CSS values, for charts.
STATUS_HEX = {
    "pending": "#78909c",
    "waiting_for_dependencies": "#f9a825",
    "running": "#1976d2",
    "completed": "#388e3c",
    "failed": "#d32f2f",
    "cancelled": "#9e9e9e",
    "unspecified": "#bdbdbd",
}
WORKFLOW_COLORS = {
    "pending": "blue-grey-5",
    "running": "blue-7",
    "completed": "green-7",
    "failed": "red-7",
    "cancelled": "grey-6",
    "unspecified": "grey-5",
}
PRIORITY_COLORS = {
    "low": "grey-6",
    "normal": "blue-grey-6",
    "high": "orange-8",
    "critical": "red-8",
    "unspecified": "grey-5",
}


def _suffix(full: str, prefix: str) -> str:
    return full.removeprefix(prefix).lower()


def status_name(value: int) -> str:
    """Return a task status as its REST name, e.g. ``running``."""
    return _suffix(common_pb2.TaskStatus.Name(value), "TASK_STATUS_")


def status_value(name: str) -> int:
    """Return the TaskStatus value of a REST name."""
    return common_pb2.TaskStatus.Value("TASK_STATUS_" + name.upper())


def priority_name(value: int) -> str:
    """Return a priority as its REST name, e.g. ``high``."""
    return _suffix(common_pb2.Priority.Name(value), "PRIORITY_")


def priority_value(name: str) -> int:
    """Return the Priority value of a REST name."""
    return common_pb2.Priority.Value("PRIORITY_" + name.upper())


def project_status_name(value: int) -> str:
    """Return a project status as its REST name, e.g. ``on_hold``."""
    return _suffix(common_pb2.ProjectStatus.Name(value), "PROJECT_STATUS_")


def project_status_value(name: str) -> int:
    """Return the ProjectStatus value of a REST name."""
    return common_pb2.ProjectStatus.Value("PROJECT_STATUS_" + name.upper())


def workflow_status_name(value: int) -> str:
    """Return a workflow status as its REST name."""
    return _suffix(workflows_pb2.WorkflowStatus.Name(value), "WORKFLOW_STATUS_")


def condition_name(value: int) -> str:
    """Return a dependency condition; unspecified means success."""
    name = _suffix(tasks_pb2.DependencyCondition.Name(value), "DEPENDENCY_CONDITION_")
    return "success" if name == "unspecified" else name


def condition_value(name: str) -> int:
    """Return the DependencyCondition value of a name."""
    return tasks_pb2.DependencyCondition.Value("DEPENDENCY_CONDITION_" + name.upper())


def phase_name(value: int) -> str:
    """Return a development phase as its name, e.g. ``ai_review``."""
    return _suffix(development_pb2.DevelopmentPhase.Name(value), "DEVELOPMENT_PHASE_")


def review_type_name(value: int) -> str:
    """Return a review type as its name, e.g. ``security``."""
    return _suffix(development_pb2.ReviewType.Name(value), "REVIEW_TYPE_")


def label(name: str) -> str:
    """Return a snake_case name for people: ``on_hold`` -> ``on hold``."""
    return name.replace("_", " ")


def change(event: tasks_pb2.TaskEvent) -> str:
    """Return what an event did: ``created``, ``running → completed``, ``deleted``."""
    to_status = label(status_name(event.to_status))
    if event.deleted:
        return "deleted"
    if event.from_status == common_pb2.TASK_STATUS_UNSPECIFIED:
        return "created"
    if event.from_status == event.to_status:
        return to_status
    return f"{label(status_name(event.from_status))} → {to_status}"


def is_set(stamp: Timestamp) -> bool:
    """Return whether a timestamp field holds a time."""
    return bool(stamp.seconds or stamp.nanos)


def seconds_of(stamp: Timestamp) -> float:
    """Return a timestamp as epoch seconds."""
    return stamp.seconds + stamp.nanos / 1e9


def when(stamp: Timestamp) -> str:
    """Return a timestamp as ``YYYY-MM-DD HH:MM:SS`` UTC, or an empty string."""
    if not is_set(stamp):
        return ""
    moment = datetime.fromtimestamp(seconds_of(stamp), UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def clock(stamp: Timestamp) -> str:
    """Return the time of day of a timestamp, ``HH:MM:SS`` UTC."""
    if not is_set(stamp):
        return ""
    return datetime.fromtimestamp(seconds_of(stamp), UTC).strftime("%H:%M:%S")


def duration(seconds: float) -> str:
    """Return a duration for people: ``850 ms``, ``12.3 s``, ``4 min 5 s``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


def run_time(task: tasks_pb2.Task, now: float | None = None) -> str:
    """Return how long the task's latest run took, or has run so far."""
    if not is_set(task.started_at):
        return ""
    end = seconds_of(task.finished_at) if is_set(task.finished_at) else None
    if end is None or end < seconds_of(task.started_at):
        if status_name(task.status) != "running":
            return ""
        end = now if now is not None else time.time()
    return duration(max(0.0, end - seconds_of(task.started_at)))


def count(value: int) -> str:
    """Return a count with thousands separators."""
    return f"{value:,}"


def size(value: int) -> str:
    """Return a byte count for people."""
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value} B"


def short_id(value: str) -> str:
    """Return the first block of a UUID, enough to tell tasks apart on a page."""
    return value.split("-", 1)[0]
