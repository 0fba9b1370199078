"""What survives a restart, a crash, and a second server on the same data."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.integration.polling import (
    create_task,
    get_task,
    wait_running,
    wait_settled,
    wait_until,
)
from tests.integration.processes import group_members, kill_group
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, projects_pb2, system_pb2, tasks_pb2

FAILED = common_pb2.TASK_STATUS_FAILED


def every_task(server: ServerProcess) -> list[tasks_pb2.Task]:
    """Return every task, in creation order."""
    return list(
        server.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=1000)).tasks
    )


def test_a_clean_restart_keeps_every_task_with_its_status_history_and_log(
    server: ServerFactory,
) -> None:
    srv = server(slots=1)
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="kept")
    ).project
    completed = create_task(srv, "completed", "echo kept", project_id=project.id)
    failed = create_task(srv, "failed", "exit 3")
    wait_settled(srv, completed.id)
    wait_settled(srv, failed.id)
    blocker = create_task(srv, "blocker", "sleep 30")
    wait_running(srv, blocker.id)
    cancelled = create_task(srv, "cancelled", "true")
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=cancelled.id, reason="no"))
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=blocker.id), timeout=10)
    create_task(srv, "tracked", "")
    before = every_task(srv)
    history = srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=failed.id))
    project = srv.projects.GetProject(
        projects_pb2.GetProjectRequest(id=project.id)
    ).project
    assert project.tasks_by_status["completed"] == 1

    assert srv.stop() == 0
    srv.start()

    assert every_task(srv) == before
    assert [t.status for t in before] == [
        common_pb2.TASK_STATUS_COMPLETED,
        FAILED,
        common_pb2.TASK_STATUS_CANCELLED,
        common_pb2.TASK_STATUS_CANCELLED,
        common_pb2.TASK_STATUS_PENDING,
    ]
    assert (
        srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=failed.id))
        == history
    )
    log = srv.tasks.ReadTaskLog(tasks_pb2.ReadTaskLogRequest(id=completed.id))
    assert log.data == b"kept\n"
    assert (
        srv.projects.GetProject(projects_pb2.GetProjectRequest(id=project.id)).project
        == project
    )


def test_tasks_created_after_a_restart_follow_the_earlier_ones(
    server: ServerFactory,
) -> None:
    srv = server()
    earlier = create_task(srv, "earlier", "true")
    wait_settled(srv, earlier.id)
    old_seq = (
        srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=earlier.id))
        .events[-1]
        .seq
    )

    srv.restart()
    later = create_task(srv, "later", "true")
    wait_settled(srv, later.id)

    assert [t.id for t in every_task(srv)] == [earlier.id, later.id]
    events = srv.tasks.GetTaskHistory(
        tasks_pb2.GetTaskHistoryRequest(id=later.id)
    ).events
    assert events[0].seq > old_seq


def test_a_task_running_when_the_server_is_killed_fails_as_interrupted(
    server: ServerFactory,
) -> None:
    srv = server()
    task = create_task(srv, "long", "sleep 30")
    pid = wait_running(srv, task.id).pid
    try:
        srv.kill()
        srv.start()

        after = get_task(srv, task.id)

        assert after.status == FAILED
        assert after.status_reason == "interrupted"
        assert after.HasField("finished_at")
        wait_until(lambda: group_members(pid) == [], what="the orphaned group to end")
    finally:
        kill_group(pid)


def test_stopping_the_server_ends_running_tasks_and_queued_ones_run_after_restart(
    server: ServerFactory,
) -> None:
    srv = server(slots=1)
    task = create_task(srv, "long", "sleep 30")
    pid = wait_running(srv, task.id).pid
    queued = create_task(srv, "queued", "echo later")
    try:
        assert srv.stop() == 0
        assert group_members(pid) == []
        srv.start()

        after = get_task(srv, task.id)
        ran = wait_settled(srv, queued.id)

        assert (after.status, after.status_reason) == (FAILED, "interrupted")
        assert ran.status == common_pb2.TASK_STATUS_COMPLETED
        log = srv.tasks.ReadTaskLog(tasks_pb2.ReadTaskLogRequest(id=queued.id))
        assert log.data == b"later\n"
    finally:
        kill_group(pid)


def test_a_project_on_hold_still_holds_its_tasks_after_a_restart(
    server: ServerFactory,
) -> None:
    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(
            name="paused", status=common_pb2.PROJECT_STATUS_ON_HOLD
        )
    ).project
    held = create_task(srv, "held", "true", project_id=project.id)

    srv.restart()
    free = create_task(srv, "free", "true")
    wait_settled(srv, free.id)

    assert get_task(srv, held.id).status == common_pb2.TASK_STATUS_PENDING


def test_a_second_server_on_the_same_data_directory_exits_naming_it(
    server: ServerFactory, tmp_path: Path
) -> None:
    first = server()
    stderr_path = tmp_path / "second-server-stderr.log"

    launched = time.monotonic()
    second = first.launch(stderr_path=stderr_path)
    try:
        returncode = second.wait(timeout=15)
    except subprocess.TimeoutExpired:
        second.kill()
        second.wait()
        raise

    assert returncode != 0
    assert time.monotonic() - launched < 5
    message = stderr_path.read_text()
    assert "Error:" in message
    assert str(first.data_dir.resolve()) in message
    assert f"pid {first.popen.pid}" in message
    assert first.system.Ping(system_pb2.PingRequest(), timeout=5).version
    wait_until(lambda: first.running, what="the first server to keep running")
