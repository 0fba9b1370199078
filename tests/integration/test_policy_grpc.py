"""Execution policy over gRPC: retries, timeouts, delayed start, idempotency,
pause, and the blocked_by explanation."""

from __future__ import annotations

import os
import random
import shlex
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from tests.integration.polling import (
    TERMINAL,
    code_of,
    create_task,
    details_of,
    get_task,
    rpc_error,
    seconds,
    timestamp_in,
    wait_for_status,
    wait_running,
    wait_settled,
    wait_until,
)
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, projects_pb2, system_pb2, tasks_pb2

COMPLETED = common_pb2.TASK_STATUS_COMPLETED
FAILED = common_pb2.TASK_STATUS_FAILED
CANCELLED = common_pb2.TASK_STATUS_CANCELLED
PENDING = common_pb2.TASK_STATUS_PENDING
RUNNING = common_pb2.TASK_STATUS_RUNNING


def history(srv: ServerProcess, task_id: str) -> list[tasks_pb2.TaskEvent]:
    answer = srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=task_id))
    return list(answer.events)


def test_retries_happen_exactly_max_retries_times(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "flaky", "exit 3", max_retries=2, retry_delay_seconds=0.05)

    done = wait_settled(srv, task.id, timeout=10)

    assert done.status == FAILED
    assert done.attempt == 3
    assert done.exit_code == 3
    runs_ended = [e for e in history(srv, task.id) if e.from_status == RUNNING]
    assert [e.attempt for e in runs_ended] == [1, 2, 3]
    assert [e.exit_code for e in runs_ended] == [3, 3, 3]
    assert [e.to_status for e in runs_ended] == [PENDING, PENDING, FAILED]
    assert "retry 1 of 2" in runs_ended[0].reason
    assert "retry 2 of 2" in runs_ended[1].reason


def test_a_retry_waits_its_delay_and_doubles_it(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    srv = shared_server
    stamps = shlex.quote(str(tmp_path / "stamps"))
    task = create_task(
        srv,
        "slow-retry",
        f"date +%s.%N >> {stamps}; exit 1",
        max_retries=2,
        retry_delay_seconds=0.4,
    )

    first_retry = wait_until(
        lambda: (t := get_task(srv, task.id)).HasField("retry_at") and t,
        what="the first retry to be scheduled",
    )
    assert first_retry.status == PENDING
    assert "next attempt after a failure" in first_retry.blocked_by
    wait_settled(srv, task.id, timeout=10)

    times = [float(line) for line in (tmp_path / "stamps").read_text().split()]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.4
    assert times[2] - times[1] >= 0.8


def test_a_task_that_succeeds_on_a_retry_completes(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    marker = shlex.quote(str(tmp_path / "tried"))
    task = create_task(
        shared_server,
        "second-time-lucky",
        f"test -e {marker} || {{ touch {marker}; exit 1; }}",
        max_retries=3,
    )

    done = wait_settled(shared_server, task.id)

    assert done.status == COMPLETED
    assert done.attempt == 2


def test_a_timeout_kills_a_grandchild_too(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    pid_file = tmp_path / "grandchild.pid"
    command = f"sh -c 'sleep 60 & echo $! > {shlex.quote(str(pid_file))}; wait'"
    task = create_task(shared_server, "slow", command, timeout_seconds=1)

    done = wait_settled(shared_server, task.id, timeout=10)

    assert done.status == FAILED
    assert done.status_reason == "timeout"
    grandchild = int(pid_file.read_text())
    wait_until(lambda: not _alive(grandchild), what="the grandchild to be gone")


def test_a_delayed_task_never_starts_early(shared_server: ServerProcess) -> None:
    srv = shared_server
    start_after = timestamp_in(1.5)

    task = create_task(srv, "later", "true", start_after=start_after)

    waiting = get_task(srv, task.id)
    assert waiting.status == PENDING
    assert waiting.blocked_by.startswith("start_after ")
    done = wait_settled(srv, task.id, timeout=10)
    assert done.status == COMPLETED
    assert seconds(done.started_at) >= seconds(start_after)


def test_a_start_time_in_the_past_runs_at_once(shared_server: ServerProcess) -> None:
    task = create_task(shared_server, "past", "true", start_after=timestamp_in(-60))

    assert wait_settled(shared_server, task.id).status == COMPLETED


def test_twenty_concurrent_submissions_with_one_key_make_one_task(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    key = f"deploy-{random.random()}"

    def submit(_: int) -> str:
        return create_task(srv, "deploy", "true", idempotency_key=key).id

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = list(pool.map(submit, range(20)))

    assert len(set(ids)) == 1
    listed = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=1000)).tasks
    assert sum(1 for t in listed if t.idempotency_key == key) == 1


def test_cancel_racing_completion_leaves_one_terminal_state(
    server: ServerFactory,
) -> None:
    srv = server(slots=4)
    specs = [
        tasks_pb2.TaskSpec(name=f"race-{i}", command=f"sleep 0.0{i % 4}")
        for i in range(200)
    ]
    created = srv.tasks.BatchCreateTasks(
        tasks_pb2.BatchCreateTasksRequest(tasks=specs)
    ).tasks
    refused = threading.Event()

    def cancel(task: tasks_pb2.Task) -> tuple[str, int | None]:
        time.sleep(random.uniform(0, 0.5))
        try:
            answer = srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=task.id))
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION
            refused.set()
            return task.id, None
        return task.id, answer.task.status

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = dict(pool.map(cancel, created))

    for task in created:
        final = wait_settled(srv, task.id)
        events = history(srv, task.id)
        terminal = [e for e in events if e.to_status in TERMINAL]
        assert len(terminal) == 1, (task.id, events)
        assert terminal[0].to_status == final.status
        answered = outcomes[task.id]
        if answered is None:
            assert final.status == COMPLETED
        else:
            assert answered == CANCELLED == final.status


def test_pause_stops_dispatch_until_resume_and_outlives_a_restart(
    server: ServerFactory,
) -> None:
    srv = server()
    answer = srv.system.PauseQueue(system_pb2.PauseQueueRequest())
    assert answer.paused

    task = create_task(srv, "held", "true")
    time.sleep(0.3)
    held = get_task(srv, task.id)
    assert held.status == PENDING
    assert held.blocked_by == "the queue is paused"
    assert srv.system.GetStats(system_pb2.GetStatsRequest()).paused

    srv.stop()
    srv.start()
    time.sleep(0.3)
    assert get_task(srv, task.id).status == PENDING
    assert srv.system.GetStats(system_pb2.GetStatsRequest()).paused

    assert not srv.system.ResumeQueue(system_pb2.ResumeQueueRequest()).paused
    assert wait_settled(srv, task.id).status == COMPLETED


def test_blocked_by_names_the_limit_that_holds_a_task(server: ServerFactory) -> None:
    srv = server(slots=1)
    busy = create_task(srv, "busy", "sleep 30")
    wait_running(srv, busy.id)
    queued = create_task(srv, "queued", "true")
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(
            name="held", status=common_pb2.PROJECT_STATUS_ON_HOLD
        )
    ).project
    in_held_project = create_task(srv, "in-held", "true", project_id=project.id)

    assert get_task(srv, queued.id).blocked_by == "all 1 slots are busy"
    assert (
        get_task(srv, in_held_project.id).blocked_by
        == f"project {project.id} is on hold"
    )
    assert get_task(srv, busy.id).blocked_by == ""
    listed = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest()).tasks
    assert {t.id: t.blocked_by for t in listed}[queued.id] == "all 1 slots are busy"


def test_blocked_by_names_a_full_project(server: ServerFactory) -> None:
    srv = server(slots=4)
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="narrow", max_parallel=1)
    ).project
    first = create_task(srv, "first", "sleep 30", project_id=project.id)
    wait_running(srv, first.id)
    second = create_task(srv, "second", "true", project_id=project.id)

    blocked = wait_until(
        lambda: get_task(srv, second.id).blocked_by, what="a blocked_by"
    )
    assert blocked == f"project {project.id} is at its limit of 1 running task(s)"


def test_a_task_running_at_a_crash_with_retries_left_runs_again(
    server: ServerFactory, tmp_path: Path
) -> None:
    srv = server()
    runs = shlex.quote(str(tmp_path / "runs"))
    task = create_task(srv, "survivor", f"echo run >> {runs}; sleep 1", max_retries=1)
    wait_running(srv, task.id)

    srv.kill()
    srv.start()

    done = wait_settled(srv, task.id, timeout=15)
    assert done.status == COMPLETED
    assert done.attempt == 2
    reasons = [e.reason for e in history(srv, task.id)]
    assert any(r.startswith("interrupted; retry 1 of 1") for r in reasons)
    assert (tmp_path / "runs").read_text().split() == ["run", "run"]


def test_a_delayed_task_keeps_its_start_time_across_a_restart(
    server: ServerFactory,
) -> None:
    srv = server()
    start_after = timestamp_in(4.0)
    task = create_task(srv, "later", "true", start_after=start_after)

    srv.stop()
    srv.start()

    done = wait_for_status(srv, task.id, COMPLETED, timeout=15)
    assert seconds(done.started_at) >= seconds(start_after)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_a_started_event_carries_no_exit_code_of_an_earlier_attempt(
    shared_server: ServerProcess,
) -> None:
    task = create_task(shared_server, "flaky", "exit 7", max_retries=1)
    wait_settled(shared_server, task.id)

    started = [e for e in history(shared_server, task.id) if e.to_status == RUNNING]

    assert len(started) == 2
    assert not any(e.HasField("exit_code") for e in started)


def test_oversized_environment_names_are_refused(shared_server: ServerProcess) -> None:
    error = rpc_error(
        lambda: create_task(shared_server, "t", "true", env={"x" * 300: "1"})
    )

    assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(error).startswith("env:")
