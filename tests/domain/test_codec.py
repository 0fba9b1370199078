"""Codec: records survive a round trip through bytes."""

from __future__ import annotations

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
from tq_actors.store.codec import (
    decode_event,
    decode_project,
    decode_task,
    encode_event,
    encode_project,
    encode_task,
)


def test_a_task_round_trips_with_every_field() -> None:
    task = Task(
        id="3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        seq=9,
        name="build ✓",
        command="echo 'hi'",
        description="d",
        project_id="",
        priority=Priority.HIGH,
        status=TaskStatus.FAILED,
        depends_on=(Dependency("x", Condition.FAILURE),),
        working_dir="/tmp",
        env={"A": "1"},
        timeout_seconds=5,
        max_retries=0,
        retry_delay_seconds=0.5,
        start_after=None,
        tags=("a", "b"),
        idempotency_key="k",
        development_workflow=False,
        created_at=1.5,
        updated_at=2.5,
        attempt=2,
        exit_code=3,
        status_reason="exit code 3",
        started_at=2.0,
        finished_at=2.5,
        pid=123,
    )
    assert decode_task(encode_task(task)) == task


def test_an_event_and_a_project_round_trip() -> None:
    event = TaskEvent(7, "t", None, TaskStatus.PENDING, "created", 1.0, 0)
    assert decode_event(encode_event(event)) == event
    project = Project(
        "p", 1, "P", "", ProjectStatus.ON_HOLD, "", ("x",), 2, 90.0, 3, 1.0, 1.0
    )
    assert decode_project(encode_project(project)) == project
