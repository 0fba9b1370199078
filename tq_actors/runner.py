"""RunnerActor: starts task commands and ends them.

Commands run as ``/bin/sh -c COMMAND`` in a new session, so the process id
is also the id of a process group that holds every child the command makes.
Spawning happens on this actor's own thread (never on an event loop); the
Monitor thread waits for exits and copies output into the logs.

Ending a run: SIGTERM to the whole group, SIGKILL once the grace period is
over; the run counts as ended only when no live member of the group is left.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tq_actors.actor import Actor, Call, Handle
from tq_actors.logs import LogFiles
from tq_actors.monitor import Monitor

logger = logging.getLogger(__name__)

_GROUP_POLL_SECONDS = 0.02
_REAP_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What the runner needs to start one attempt of a task."""

    task_id: str
    command: str
    working_dir: str
    env: Mapping[str, str]
    timeout_seconds: int
    attempt: int


@dataclass(slots=True)
class _Run:
    task_id: str
    process: subprocess.Popen[bytes]
    kill_reason: str = ""
    kill_deadline: float = 0.0
    returncode: int | None = None
    hard_killed: bool = False

    @property
    def pgid(self) -> int:
        return self.process.pid


class RunnerActor(Actor):
    """Owns the table of running processes."""

    def __init__(
        self, *, logs: LogFiles, base_env: Mapping[str, str], grace_seconds: float
    ) -> None:
        super().__init__()
        self._logs = logs
        self._base_env = dict(base_env)
        self._grace_seconds = grace_seconds
        self._runs: dict[str, _Run] = {}
        self._monitor = Monitor()
        self._tasks: Handle | None = None
        self._scheduler: Handle | None = None

    def bind(self, tasks: Handle, scheduler: Handle) -> None:
        """Connect the actors that hear of starts and exits."""
        self._tasks = tasks
        self._scheduler = scheduler

    def on_stop(self) -> None:
        """End every run (SIGTERM, SIGKILL after the grace) and stop the monitor."""
        runs = list(self._runs.values())
        if runs:
            logger.info("Runner: stopping; ending %d running task(s)", len(runs))
        for run in runs:
            _signal_group(run.pgid, signal.SIGTERM)
        deadline = time.monotonic() + self._grace_seconds
        while time.monotonic() < deadline and any(group_alive(r.pgid) for r in runs):
            time.sleep(_GROUP_POLL_SECONDS)
        for run in runs:
            _signal_group(run.pgid, signal.SIGKILL)
        self._monitor.stop()
        for run in self._runs.values():
            try:
                run.process.wait(timeout=_REAP_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "Task %r: process %d outlived SIGKILL", run.task_id, run.pgid
                )

    def run(self, request: RunRequest) -> None:
        """Spawn one attempt; report the start, or the failure to start."""
        assert self._tasks is not None
        header = b"" if request.attempt <= 1 else _attempt_header(request.attempt)
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        try:
            process = self._spawn(request, write_fd)
        except OSError as exc:
            os.close(read_fd)
            reason = _spawn_failure(exc, request.working_dir)
            logger.info("Task %r: could not start: %s", request.task_id, reason)
            self._tasks.tell("on_spawn_failed", request.task_id, reason)
            self._release(request.task_id)
            return
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        run = _Run(request.task_id, process)
        self._runs[request.task_id] = run
        sink = self._logs.open_sink(request.task_id, header)
        actor = self.actor_ref

        def on_exit(returncode: int) -> None:
            actor.tell(Call("exited", (request.task_id, returncode), None))

        self._monitor.watch(process, read_fd, sink, on_exit)
        if request.timeout_seconds > 0:
            timed_out = Call("kill", (request.task_id, "timeout", process.pid), None)
            self._monitor.after(request.timeout_seconds, lambda: actor.tell(timed_out))
        logger.debug("Task %r: started as pid %d", request.task_id, process.pid)
        self._tasks.tell("on_started", request.task_id, process.pid, time.time())

    def kill(self, task_id: str, reason: str, pid: int = 0) -> None:
        """Ask a run's whole group to end: SIGTERM now, SIGKILL after grace.

        With a pid, only the run of that process (a timeout of one attempt
        must not end a later one).
        """
        run = self._runs.get(task_id)
        if run is None or run.kill_reason or (pid and run.pgid != pid):
            return
        run.kill_reason = reason
        run.kill_deadline = time.monotonic() + self._grace_seconds
        logger.info("Task %r: sending SIGTERM to process group %d", task_id, run.pgid)
        _signal_group(run.pgid, signal.SIGTERM)
        actor = self.actor_ref
        self._monitor.after(
            self._grace_seconds,
            lambda: actor.tell(Call("kill_hard", (task_id, run.pgid), None)),
        )

    def kill_hard(self, task_id: str, pid: int) -> None:
        """SIGKILL the group of run pid once its grace period is over."""
        run = self._runs.get(task_id)
        if run is None or run.hard_killed or run.pgid != pid:
            return
        run.hard_killed = True
        logger.warning(
            "Task %r: grace period over; sending SIGKILL to process group %d",
            task_id,
            run.pgid,
        )
        _signal_group(run.pgid, signal.SIGKILL)

    def exited(self, task_id: str, returncode: int) -> None:
        """Record the leader's exit; finish once the group is gone if killing."""
        run = self._runs.get(task_id)
        if run is None:
            return
        run.returncode = returncode
        self.check_group(task_id)

    def check_group(self, task_id: str, pid: int = 0) -> None:
        """Finish a run whose leader exited, once its group has no live member."""
        run = self._runs.get(task_id)
        if run is None or run.returncode is None or (pid and run.pgid != pid):
            return
        if run.kill_reason and group_alive(run.pgid):
            if time.monotonic() >= run.kill_deadline:
                self.kill_hard(task_id, run.pgid)
            actor = self.actor_ref
            self._monitor.after(
                _GROUP_POLL_SECONDS,
                lambda: actor.tell(Call("check_group", (task_id, run.pgid), None)),
            )
            return
        del self._runs[task_id]
        assert self._tasks is not None
        self._tasks.tell("on_exit", task_id, exit_code(run.returncode), run.kill_reason)
        self._release(task_id)

    def end_orphans(self, groups: list[tuple[str, int, float]]) -> None:
        """SIGKILL the groups of runs a previous server left behind.

        Each entry is (task id, process group id, start time). A group is
        ended only when every live member started after that run did, so a
        reused process id of an unrelated program is left alone.
        """
        for task_id, pgid, started_at in groups:
            if pgid > 0 and _orphaned_group(pgid, started_at):
                logger.warning(
                    "Task %r: ending process group %d left by a previous server",
                    task_id,
                    pgid,
                )
                _signal_group(pgid, signal.SIGKILL)

    def _spawn(self, request: RunRequest, output_fd: int) -> subprocess.Popen[bytes]:
        env = {**self._base_env, **request.env}
        return subprocess.Popen(
            ["/bin/sh", "-c", request.command],
            stdin=subprocess.DEVNULL,
            stdout=output_fd,
            stderr=output_fd,
            cwd=request.working_dir or None,
            env=env,
            start_new_session=True,
            close_fds=True,
        )

    def _release(self, task_id: str) -> None:
        assert self._scheduler is not None
        self._scheduler.tell("release", task_id)


def exit_code(returncode: int) -> int:
    """Map a Popen return code to the shell's convention (128 + signal)."""
    return 128 - returncode if returncode < 0 else returncode


def group_alive(pgid: int) -> bool:
    """Return whether any process of the group is alive (zombies excepted)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with os.scandir("/proc") as entries:
        return any(_live_member(entry, pgid) for entry in entries)


def _live_member(entry: os.DirEntry[str], pgid: int) -> bool:
    fields = _stat_fields(entry)
    return fields is not None and _alive_in(fields, pgid)


def _stat_fields(entry: os.DirEntry[str]) -> list[str] | None:
    """Return /proc/PID/stat fields after the command: state, ppid, pgrp, …"""
    if not entry.name.isdigit():
        return None
    try:
        stat = Path(entry.path, "stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


_START_SLACK_SECONDS = 2.0


def _orphaned_group(pgid: int, started_at: float) -> bool:
    """Return whether a live group exists whose members all started after the run."""
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration):
        return False
    ticks = os.sysconf("SC_CLK_TCK")
    with os.scandir("/proc") as entries:
        members = [f for f in map(_stat_fields, entries) if f and _alive_in(f, pgid)]
    # Field 22 of stat (starttime, in clock ticks since boot) is index 19 here.
    earliest = started_at - _START_SLACK_SECONDS
    return bool(members) and all(boot + int(f[19]) / ticks >= earliest for f in members)


def _alive_in(fields: list[str], pgid: int) -> bool:
    return int(fields[2]) == pgid and fields[0] not in "ZX"


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _spawn_failure(exc: OSError, working_dir: str) -> str:
    if working_dir and isinstance(exc, FileNotFoundError | NotADirectoryError):
        return "working_dir does not exist or is not a directory"
    if isinstance(exc, PermissionError):
        return "permission denied while starting the command"
    return f"could not start the command ({exc.strerror or type(exc).__name__})"


def _attempt_header(attempt: int) -> bytes:
    return f"\n[task-queue] attempt {attempt}\n".encode()
