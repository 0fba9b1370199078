"""RunnerActor: exit codes, process groups and their ending."""

from __future__ import annotations

import os
import queue
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pykka
import pytest

from tq_actors.actor import Actor, Handle
from tq_actors.logs import LogFiles
from tq_actors.runner import RunnerActor, RunRequest, exit_code, group_alive


class Inbox(Actor):
    """Stands in for the task actor and the scheduler: records every call."""

    def __init__(self, seen: queue.Queue[tuple[str, tuple[Any, ...]]]) -> None:
        super().__init__()
        self._seen = seen

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_") or name == "release":
            return lambda *args: self._seen.put((name, args))
        raise AttributeError(name)


@pytest.fixture
def seen() -> queue.Queue[tuple[str, tuple[Any, ...]]]:
    return queue.Queue()


@pytest.fixture
def runner(
    tmp_path: Path, seen: queue.Queue[tuple[str, tuple[Any, ...]]]
) -> Iterator[Handle]:
    inbox = Handle(Inbox.start(seen))
    handle = Handle(
        RunnerActor.start(
            logs=LogFiles(tmp_path, cap_bytes=64),
            base_env={"PATH": "/usr/bin:/bin"},
            grace_seconds=0.5,
        )
    )
    handle.tell("bind", inbox, inbox)
    yield handle
    pykka.ActorRegistry.stop_all()


def next_call(
    seen: queue.Queue[tuple[str, tuple[Any, ...]]], name: str
) -> tuple[Any, ...]:
    while True:
        method, args = seen.get(timeout=10)
        if method == name:
            return args


def run(task_id: str, command: str, timeout_seconds: int = 0) -> RunRequest:
    return RunRequest(task_id, command, "", {}, timeout_seconds, 1)


def test_a_signal_death_is_reported_as_128_plus_the_signal() -> None:
    assert (exit_code(0), exit_code(3), exit_code(-15), exit_code(-9)) == (
        0,
        3,
        143,
        137,
    )


def test_a_run_reports_its_start_then_its_exit_code_and_frees_its_slot(
    runner: Handle, seen: queue.Queue[tuple[str, tuple[Any, ...]]]
) -> None:
    runner.tell("run", run("t1", "exit 7"))

    started = next_call(seen, "on_started")
    exited = next_call(seen, "on_exit")

    assert started[0] == "t1"
    assert exited == ("t1", 7, "")
    assert next_call(seen, "release") == ("t1",)


def test_output_beyond_the_cap_is_dropped_with_a_mark(
    runner: Handle, seen: queue.Queue[tuple[str, tuple[Any, ...]]], tmp_path: Path
) -> None:
    runner.tell("run", run("t2", "head -c 1000 /dev/zero | tr '\\0' x"))
    next_call(seen, "on_exit")

    log = (tmp_path / "t2.log").read_bytes()
    assert log.startswith(b"x" * 64)
    assert b"x" * 65 not in log
    assert b"output truncated" in log


def test_a_kill_ends_a_group_that_ignores_sigterm_after_the_grace(
    runner: Handle, seen: queue.Queue[tuple[str, tuple[Any, ...]]]
) -> None:
    runner.tell("run", run("t3", "trap '' TERM; sleep 30 & sleep 30; wait"))
    pgid = next_call(seen, "on_started")[1]
    time.sleep(0.2)

    runner.tell("kill", "t3", "cancel")
    exited = next_call(seen, "on_exit")

    assert exited[1:] == (137, "cancel")
    assert not group_alive(pgid)


def test_a_timeout_kills_the_run_with_reason_timeout(
    runner: Handle, seen: queue.Queue[tuple[str, tuple[Any, ...]]]
) -> None:
    runner.tell("run", run("t4", "sleep 30", timeout_seconds=1))

    assert next_call(seen, "on_exit") == ("t4", 143, "timeout")


def test_a_missing_working_dir_is_a_failed_start(
    runner: Handle, seen: queue.Queue[tuple[str, tuple[Any, ...]]]
) -> None:
    runner.tell("run", RunRequest("t5", "true", "/nonexistent/dir", {}, 0, 1))

    task_id, reason = next_call(seen, "on_spawn_failed")

    assert task_id == "t5"
    assert "working_dir" in reason


def test_group_alive_sees_a_grandchild_after_its_leader_has_exited() -> None:
    leader = subprocess.Popen(
        ["/bin/sh", "-c", "sleep 30 & exit 0"], start_new_session=True
    )
    leader.wait()
    try:
        assert group_alive(leader.pid)
    finally:
        os.killpg(leader.pid, 9)
    deadline = time.monotonic() + 5
    while group_alive(leader.pid):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_stopping_the_runner_lets_a_task_handle_sigterm_first(
    runner: Handle, seen: queue.Queue[tuple[str, tuple[Any, ...]]], tmp_path: Path
) -> None:
    command = "trap 'echo bye; exit 0' TERM; echo up; sleep 30 & wait"
    runner.tell("run", run("t6", command))
    pgid = next_call(seen, "on_started")[1]
    deadline = time.monotonic() + 5
    while not (tmp_path / "t6.log").exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)

    runner.stop()

    assert not group_alive(pgid)
    assert (tmp_path / "t6.log").read_bytes() == b"up\nbye\n"
