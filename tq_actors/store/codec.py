"""Model <-> bytes. Records are compact JSON (orjson) so the store stays readable."""

from __future__ import annotations

from typing import NamedTuple

import orjson

from tq_actors.models import (
    Condition,
    Dependency,
    Development,
    Phase,
    Priority,
    Project,
    ProjectStatus,
    Review,
    ReviewType,
    Task,
    TaskEvent,
    TaskOutline,
    TaskStatus,
    TestRun,
    Workflow,
    evolve,
)


def encode_task(task: Task) -> bytes:
    """Serialize a task (enums as numbers, dependencies as objects).

    ``blocked_by`` and ``guide`` are worked out on reads and never stored.
    """
    if task.blocked_by or task.guide is not None:
        task = evolve(task, blocked_by="", guide=None)
    return orjson.dumps(task)


def decode_task(raw: bytes) -> Task:
    """Deserialize a task."""
    data = orjson.loads(raw)
    data["priority"] = Priority(data["priority"])
    data["status"] = TaskStatus(data["status"])
    data["depends_on"] = tuple(
        Dependency(d["task_id"], Condition(d["condition"])) for d in data["depends_on"]
    )
    data["tags"] = tuple(data["tags"])
    data.pop("guide", None)
    data.pop("blocked_by", None)
    if data.get("development") is not None:
        data["development"] = _decode_development(data["development"])
    return Task(**data)


def _decode_development(data: dict) -> Development:  # type: ignore[type-arg]
    data["phase"] = Phase(data["phase"])
    data["reviews"] = tuple(
        Review(
            **{
                **review,
                "review_type": ReviewType(review["review_type"]),
                "suggestions": tuple(review["suggestions"]),
            }
        )
        for review in data["reviews"]
    )
    if data["test_run"] is not None:
        data["test_run"] = TestRun(**data["test_run"])
    return Development(**data)


def encode_event(event: TaskEvent) -> bytes:
    """Serialize a history event."""
    return orjson.dumps(event)


def decode_event(raw: bytes) -> TaskEvent:
    """Deserialize a history event."""
    data = orjson.loads(raw)
    if data["from_status"] is not None:
        data["from_status"] = TaskStatus(data["from_status"])
    data["to_status"] = TaskStatus(data["to_status"])
    if data.get("phase") is not None:
        data["phase"] = Phase(data["phase"])
    return TaskEvent(**data)


def encode_project(project: Project) -> bytes:
    """Serialize a project."""
    return orjson.dumps(project)


def decode_project(raw: bytes) -> Project:
    """Deserialize a project."""
    data = orjson.loads(raw)
    data["status"] = ProjectStatus(data["status"])
    data["tags"] = tuple(data["tags"])
    return Project(**data)


def encode_workflow(workflow: Workflow) -> bytes:
    """Serialize a workflow."""
    return orjson.dumps(workflow)


def decode_workflow(raw: bytes) -> Workflow:
    """Deserialize a workflow."""
    data = orjson.loads(raw)
    data["keys"] = tuple(data["keys"])
    data["task_ids"] = tuple(data["task_ids"])
    return Workflow(**data)


class TaskBrief(NamedTuple):
    """The fields a workflow's status is derived from."""

    status: TaskStatus
    attempt: int
    status_reason: str


def decode_brief(raw: bytes) -> TaskBrief:
    """Deserialize only what a workflow's status needs (a list reads many)."""
    data = orjson.loads(raw)
    return TaskBrief(TaskStatus(data["status"]), data["attempt"], data["status_reason"])


def decode_outline(raw: bytes) -> TaskOutline:
    """Deserialize the fields a workflow is drawn with (a big one has thousands)."""
    data = orjson.loads(raw)
    return TaskOutline(
        id=data["id"],
        name=data["name"],
        project_id=data["project_id"],
        status=TaskStatus(data["status"]),
        status_reason=data["status_reason"],
        attempt=data["attempt"],
        exit_code=data["exit_code"],
        started_at=data["started_at"],
        finished_at=data["finished_at"],
        depends_on=tuple(
            Dependency(d["task_id"], Condition(d["condition"]))
            for d in data["depends_on"]
        ),
        command=data["command"],
        start_after=data["start_after"],
        retry_at=data["retry_at"],
        development=(
            _decode_development(data["development"])
            if data.get("development") is not None
            else None
        ),
    )
