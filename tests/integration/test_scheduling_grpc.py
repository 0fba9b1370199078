"""Dispatch order and concurrency limits, observed over gRPC."""

from __future__ import annotations

import itertools
import shlex
from pathlib import Path

from tests.integration.polling import (
    create_task,
    get_task,
    seconds,
    wait_running,
    wait_settled,
)
from tests.server_process import ServerFactory
from tq_grpc._gen import common_pb2, projects_pb2, tasks_pb2

COMPLETED = common_pb2.TASK_STATUS_COMPLETED


def test_tasks_run_by_priority_then_in_creation_order(
    server: ServerFactory, tmp_path: Path
) -> None:
    srv = server(slots=1)
    order = shlex.quote(str(tmp_path / "order.txt"))
    blocker = create_task(srv, "blocker", "sleep 60")
    wait_running(srv, blocker.id)
    wanted = [
        ("low", common_pb2.PRIORITY_LOW),
        ("normal", common_pb2.PRIORITY_NORMAL),
        ("critical", common_pb2.PRIORITY_CRITICAL),
        ("high", common_pb2.PRIORITY_HIGH),
        ("normal2", common_pb2.PRIORITY_NORMAL),
    ]

    created = [
        create_task(srv, name, f"echo {name} >> {order}", priority=priority)
        for name, priority in wanted
    ]
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=blocker.id), timeout=30)
    done = [wait_settled(srv, task.id, timeout=10) for task in created]

    blocker_end = seconds(get_task(srv, blocker.id).finished_at)
    assert all(seconds(t.created_at) < blocker_end for t in created), (
        "the blocker ended before every task was queued"
    )
    assert all(t.status == COMPLETED for t in done)
    expected = ["critical", "high", "normal", "normal2", "low"]
    assert (tmp_path / "order.txt").read_text().split() == expected
    by_start = sorted(done, key=lambda t: seconds(t.started_at))
    assert [t.name for t in by_start] == expected


def test_a_project_limited_to_one_never_runs_two_of_its_tasks_at_once(
    server: ServerFactory,
) -> None:
    srv = server(slots=3)
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="one at a time", max_parallel=1)
    ).project

    inside = [
        create_task(srv, f"inside {i}", "sleep 0.4", project_id=project.id)
        for i in range(3)
    ]
    outside = create_task(srv, "outside", "sleep 0.4")
    done = [wait_settled(srv, task.id, timeout=10) for task in inside]
    other = wait_settled(srv, outside.id)

    assert all(t.status == COMPLETED for t in [*done, other])
    runs = sorted((seconds(t.started_at), seconds(t.finished_at)) for t in done)
    for (_, end), (start, _) in itertools.pairwise(runs):
        assert start >= end, f"project runs overlap: {runs}"
    other_run = (seconds(other.started_at), seconds(other.finished_at))
    assert any(other_run[0] < end and start < other_run[1] for start, end in runs), (
        f"the task outside the project did not run alongside it: {other_run} {runs}"
    )


def test_a_project_on_hold_dispatches_nothing_until_it_is_resumed(
    server: ServerFactory,
) -> None:
    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(
            name="paused", status=common_pb2.PROJECT_STATUS_ON_HOLD
        )
    ).project
    held = create_task(srv, "held", "true", project_id=project.id)
    free = create_task(srv, "free", "true")
    wait_settled(srv, free.id)

    still_pending = get_task(srv, held.id)
    srv.projects.UpdateProject(
        projects_pb2.UpdateProjectRequest(
            id=project.id, status=common_pb2.PROJECT_STATUS_ACTIVE
        )
    )
    done = wait_settled(srv, held.id)

    assert still_pending.status == common_pb2.TASK_STATUS_PENDING
    assert done.status == COMPLETED


def test_a_task_without_a_command_stays_pending_for_tracking(
    server: ServerFactory,
) -> None:
    srv = server()
    tracked = create_task(srv, "write the report")
    later = create_task(srv, "runs", "true")
    wait_settled(srv, later.id)

    stored = srv.tasks.GetTask(tasks_pb2.GetTaskRequest(id=tracked.id)).task

    assert stored.status == common_pb2.TASK_STATUS_PENDING
    assert stored.status_reason.startswith("tracking only")
