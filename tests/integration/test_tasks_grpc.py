"""TaskService over gRPC: running, cancelling, changing and removing tasks."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import grpc
import pytest

from tests.integration.polling import (
    code_of,
    create_task,
    get_task,
    rpc_error,
    seconds,
    wait_running,
    wait_settled,
    wait_until,
)
from tests.integration.processes import group_members, kill_group
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, tasks_pb2

PENDING = common_pb2.TASK_STATUS_PENDING
RUNNING = common_pb2.TASK_STATUS_RUNNING
COMPLETED = common_pb2.TASK_STATUS_COMPLETED
FAILED = common_pb2.TASK_STATUS_FAILED
CANCELLED = common_pb2.TASK_STATUS_CANCELLED


def test_echo_hello_completes_with_exit_code_zero_and_its_output(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server

    task = create_task(srv, "greet", "echo hello")
    done = wait_settled(srv, task.id)
    log = srv.tasks.ReadTaskLog(tasks_pb2.ReadTaskLogRequest(id=task.id))

    assert done.status == COMPLETED
    assert done.HasField("exit_code")
    assert done.exit_code == 0
    assert done.attempt == 1
    assert log.data == b"hello\n"
    assert log.eof
    assert log.next_offset == log.size_bytes == len(b"hello\n")


def test_history_records_created_started_and_completed_with_times(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "greet", "echo hello")
    done = wait_settled(srv, task.id)

    events = srv.tasks.GetTaskHistory(
        tasks_pb2.GetTaskHistoryRequest(id=task.id)
    ).events

    assert [(e.from_status, e.to_status) for e in events] == [
        (common_pb2.TASK_STATUS_UNSPECIFIED, PENDING),
        (PENDING, RUNNING),
        (RUNNING, COMPLETED),
    ]
    assert [e.reason for e in events][:2] == ["created", "started"]
    assert all(e.task_id == task.id and e.HasField("at") for e in events)
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert events[2].exit_code == 0
    times = [seconds(e.at) for e in events]
    assert times == sorted(times)
    assert times[0] == pytest.approx(seconds(done.created_at), abs=1e-6)
    assert times[1] == pytest.approx(seconds(done.started_at), abs=1e-6)
    assert times[2] == pytest.approx(seconds(done.finished_at), abs=1e-6)


def test_cancelling_a_running_task_ends_its_whole_process_group(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "two sleepers", "sleep 600 & sleep 600; wait")
    pid = wait_running(srv, task.id).pid
    assert pid > 0
    try:
        wait_until(
            lambda: len(group_members(pid)) >= 3,
            what="the shell and both sleeps to be in the task's process group",
        )

        answer = srv.tasks.CancelTask(
            tasks_pb2.CancelTaskRequest(id=task.id, reason="no longer needed"),
            timeout=15,
        )

        assert answer.task.status == CANCELLED
        assert answer.task.status_reason == "no longer needed"
        assert answer.task.HasField("finished_at")
        assert group_members(pid) == []
        assert get_task(srv, task.id).status == CANCELLED
    finally:
        kill_group(pid)


def test_cancelling_a_pending_task_means_it_never_starts(
    server: ServerFactory,
) -> None:
    srv = server(slots=1)
    blocker = create_task(srv, "blocker", "sleep 30")
    wait_running(srv, blocker.id)
    queued = create_task(srv, "queued", "echo should-not-run")

    answer = srv.tasks.CancelTask(
        tasks_pb2.CancelTaskRequest(id=queued.id, reason="changed my mind")
    )
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=blocker.id))
    later = create_task(srv, "queued after it", "true")
    wait_settled(srv, later.id)

    assert answer.task.status == CANCELLED
    assert answer.task.status_reason == "changed my mind"
    after = get_task(srv, queued.id)
    assert after.status == CANCELLED
    assert not after.HasField("started_at")
    assert after.pid == 0
    assert after.attempt == 0
    history = srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=queued.id))
    assert [e.to_status for e in history.events] == [PENDING, CANCELLED]
    log = srv.tasks.ReadTaskLog(tasks_pb2.ReadTaskLogRequest(id=queued.id))
    assert log.data == b""


def test_updating_a_pending_task_changes_its_name_and_priority(
    server: ServerFactory, tmp_path: Path
) -> None:
    srv = server(slots=1)
    order = shlex.quote(str(tmp_path / "order.txt"))
    blocker = create_task(srv, "blocker", "sleep 60")
    wait_running(srv, blocker.id)
    first = create_task(srv, "first", f"echo first >> {order}")
    second = create_task(
        srv, "draft", f"echo second >> {order}", priority=common_pb2.PRIORITY_LOW
    )

    updated = srv.tasks.UpdateTask(
        tasks_pb2.UpdateTaskRequest(
            id=second.id, name="second", priority=common_pb2.PRIORITY_HIGH
        )
    ).task
    stored = get_task(srv, second.id)
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=blocker.id))
    wait_settled(srv, first.id)
    wait_settled(srv, second.id)

    assert (updated.name, updated.priority) == ("second", common_pb2.PRIORITY_HIGH)
    assert updated.status == PENDING
    assert (stored.name, stored.priority) == ("second", common_pb2.PRIORITY_HIGH)
    assert stored.command == second.command
    assert (tmp_path / "order.txt").read_text().split() == ["second", "first"]


def test_retrying_a_failed_task_runs_it_again_as_attempt_two(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "fails", "echo run; exit 3")
    failed = wait_settled(srv, task.id)

    retried = srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=task.id)).task
    again = wait_settled(srv, task.id)

    assert (failed.status, failed.exit_code, failed.attempt) == (FAILED, 3, 1)
    assert failed.status_reason == "exit code 3"
    assert retried.status == PENDING
    assert not retried.HasField("exit_code")
    assert (failed.pid > 0, retried.pid) == (True, 0)
    assert (again.status, again.exit_code, again.attempt) == (FAILED, 3, 2)
    history = srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=task.id))
    assert [e.to_status for e in history.events] == [
        PENDING,
        RUNNING,
        FAILED,
        PENDING,
        RUNNING,
        FAILED,
    ]
    started = [e.attempt for e in history.events if e.to_status == RUNNING]
    assert started == [1, 2]
    log = srv.tasks.ReadTaskLog(tasks_pb2.ReadTaskLogRequest(id=task.id)).data
    assert log.count(b"run\n") == 2


def test_deleting_a_finished_task_removes_it_and_its_history_and_log(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "short-lived", "echo bye")
    wait_settled(srv, task.id)

    answer = srv.tasks.DeleteTask(tasks_pb2.DeleteTaskRequest(id=task.id))

    assert answer.id == task.id
    for call in (
        lambda: srv.tasks.GetTask(tasks_pb2.GetTaskRequest(id=task.id)),
        lambda: srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=task.id)),
        lambda: srv.tasks.ReadTaskLog(tasks_pb2.ReadTaskLogRequest(id=task.id)),
        lambda: srv.tasks.DeleteTask(tasks_pb2.DeleteTaskRequest(id=task.id)),
    ):
        assert code_of(rpc_error(call)) == grpc.StatusCode.NOT_FOUND
    listed = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=1000)).tasks
    assert task.id not in [t.id for t in listed]


def test_a_task_over_its_timeout_fails_with_reason_timeout(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "too slow", "sleep 30", timeout_seconds=1)

    done = wait_settled(srv, task.id, timeout=8)

    assert done.status == FAILED
    assert done.status_reason == "timeout"
    assert 0.9 <= seconds(done.finished_at) - seconds(done.started_at) < 4
    assert group_members(done.pid) == []


def test_a_retried_run_gets_its_own_full_timeout(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    srv = shared_server
    flag = shlex.quote(str(tmp_path / "second-attempt"))
    command = f"if [ -e {flag} ]; then sleep 3; else touch {flag}; exit 3; fi"
    task = create_task(srv, "flaky", command, timeout_seconds=2)
    first = wait_settled(srv, task.id)
    # Retry late enough that a leftover timer of the first run would fire
    # early in the second one.
    time.sleep(max(0.0, seconds(first.started_at) + 1.2 - time.time()))

    srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=task.id))
    second = wait_settled(srv, task.id, timeout=8)

    assert (first.status, first.exit_code) == (FAILED, 3)
    assert second.attempt == 2
    assert second.status_reason == "timeout"
    ran_for = seconds(second.finished_at) - seconds(second.started_at)
    assert ran_for >= 1.9, f"the second run was ended after {ran_for:.2f} s"


def test_a_run_retried_after_a_cancel_is_not_killed_by_the_cancels_grace_timer(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "nap", "sleep 2")
    wait_running(srv, task.id)
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=task.id), timeout=10)

    srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=task.id))
    second = wait_settled(srv, task.id, timeout=8)

    assert second.attempt == 2
    assert (second.status, second.status_reason) == (COMPLETED, "exit code 0")
    assert second.exit_code == 0


def test_cancelling_a_task_that_ignores_sigterm_kills_it_after_the_grace_period(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "stubborn", "trap '' TERM; sleep 600")
    pid = wait_running(srv, task.id).pid
    try:
        wait_until(
            lambda: any(p.name() == "sleep" for p in group_members(pid)),
            what="the sleep that ignores SIGTERM",
        )
        asked = time.monotonic()

        answer = srv.tasks.CancelTask(
            tasks_pb2.CancelTaskRequest(id=task.id), timeout=15
        )

        waited = time.monotonic() - asked
        assert answer.task.status == CANCELLED
        assert answer.task.exit_code == 128 + 9
        grace = srv.kill_grace_seconds
        assert grace - 0.1 <= waited < grace + 4
        assert group_members(pid) == []
    finally:
        kill_group(pid)
