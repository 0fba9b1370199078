"""Model <-> bytes. Records are compact JSON so the store stays readable."""

from __future__ import annotations

import json
from typing import Any

from tq_actors.models import (
    Condition,
    Dependency,
    Priority,
    Project,
    ProjectStatus,
    Task,
    TaskEvent,
    TaskStatus,
)

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode_task(task: Task) -> bytes:
    """Serialize a task."""
    data: dict[str, Any] = {
        name: getattr(task, name) for name in Task.__dataclass_fields__
    }
    data["depends_on"] = [[d.task_id, int(d.condition)] for d in task.depends_on]
    return _dumps(data).encode()


def decode_task(raw: bytes) -> Task:
    """Deserialize a task."""
    data = json.loads(raw)
    data["priority"] = Priority(data["priority"])
    data["status"] = TaskStatus(data["status"])
    data["depends_on"] = tuple(
        Dependency(task_id, Condition(cond)) for task_id, cond in data["depends_on"]
    )
    data["tags"] = tuple(data["tags"])
    return Task(**data)


def encode_event(event: TaskEvent) -> bytes:
    """Serialize a history event."""
    data = {name: getattr(event, name) for name in TaskEvent.__dataclass_fields__}
    return _dumps(data).encode()


def decode_event(raw: bytes) -> TaskEvent:
    """Deserialize a history event."""
    data = json.loads(raw)
    if data["from_status"] is not None:
        data["from_status"] = TaskStatus(data["from_status"])
    data["to_status"] = TaskStatus(data["to_status"])
    return TaskEvent(**data)


def encode_project(project: Project) -> bytes:
    """Serialize a project."""
    data = {name: getattr(project, name) for name in Project.__dataclass_fields__}
    return _dumps(data).encode()


def decode_project(raw: bytes) -> Project:
    """Deserialize a project."""
    data = json.loads(raw)
    data["status"] = ProjectStatus(data["status"])
    data["tags"] = tuple(data["tags"])
    return Project(**data)
