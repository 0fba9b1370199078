"""Monitor: the runner's I/O thread.

It waits on every running process (through a pidfd) and every output pipe
with one epoll selector, copies output into the capped logs, and runs timers.
Other threads hand it work with ``call`` and ``after``; it never spawns.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import queue
import selectors
import subprocess
import threading
import time
from collections.abc import Callable

import pykka

from tq_actors.logs import LogSink

logger = logging.getLogger(__name__)

ExitCallback = Callable[[int], None]
_READ_BYTES = 65536
_MAX_WAIT_SECONDS = 60.0


class Monitor:
    """Watches processes and pipes; runs timers; all on one thread."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._stopping = False
        self._pipes: set[_Pipe] = set()
        self._thread = threading.Thread(target=self._run, name="runner-io", daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[], None]) -> None:
        """Run fn on the monitor thread soon."""
        self._calls.put(fn)
        try:
            os.write(self._wake_w, b"\0")
        except BlockingIOError:
            pass  # the wake pipe is full, so the thread is awake anyway

    def after(self, delay_seconds: float, fn: Callable[[], None]) -> None:
        """Run fn on the monitor thread once delay_seconds have passed."""
        deadline = time.monotonic() + delay_seconds
        self.call(
            lambda: heapq.heappush(self._timers, (deadline, next(self._order), fn))
        )

    def watch(
        self,
        process: subprocess.Popen[bytes],
        pipe_fd: int,
        sink: LogSink,
        on_exit: ExitCallback,
    ) -> None:
        """Copy pipe_fd into sink and report the process's return code."""
        self.call(lambda: self._watch(process, pipe_fd, sink, on_exit))

    def stop(self) -> None:
        """Copy what the pipes hold into the logs, close them, stop the thread."""
        self.call(self._request_stop)
        self._thread.join(timeout=5)

    def _request_stop(self) -> None:
        for pipe in list(self._pipes):
            pipe.drain()
            self._close(pipe)
        self._stopping = True

    def _watch(
        self,
        process: subprocess.Popen[bytes],
        pipe_fd: int,
        sink: LogSink,
        on_exit: ExitCallback,
    ) -> None:
        pipe = _Pipe(pipe_fd, sink)
        self._pipes.add(pipe)
        pidfd = os.pidfd_open(process.pid)

        def readable() -> None:
            if not pipe.closed and pipe.drain():
                self._close(pipe)

        def exited() -> None:
            self._selector.unregister(pidfd)
            os.close(pidfd)
            returncode = process.wait()
            try:
                readable()
            finally:
                on_exit(returncode)

        self._selector.register(pipe_fd, selectors.EVENT_READ, readable)
        self._selector.register(pidfd, selectors.EVENT_READ, exited)

    def _close(self, pipe: _Pipe) -> None:
        self._pipes.discard(pipe)
        if not pipe.closed:
            self._selector.unregister(pipe.fd)
            pipe.close()

    def _run(self) -> None:
        while not self._stopping:
            try:
                self._turn()
            except Exception:
                logger.exception("Monitor: a turn of the loop failed; going on")

    def _turn(self) -> None:
        timeout = _MAX_WAIT_SECONDS
        if self._timers:
            timeout = min(timeout, max(0.0, self._timers[0][0] - time.monotonic()))
        for key, _ in self._selector.select(timeout):
            if key.data is None:
                self._run_calls()
            else:
                self._safely(key.data)
        self._run_timers()

    def _run_calls(self) -> None:
        try:
            os.read(self._wake_r, 4096)
        except BlockingIOError:
            pass
        while True:
            try:
                fn = self._calls.get_nowait()
            except queue.Empty:
                return
            self._safely(fn)

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, fn = heapq.heappop(self._timers)
            self._safely(fn)

    @staticmethod
    def _safely(fn: Callable[[], None]) -> None:
        try:
            fn()
        except pykka.ActorDeadError:
            logger.debug("Monitor: the runner has stopped; a report was dropped")
        except Exception:
            logger.exception("Monitor: a scheduled call failed")


class _Pipe:
    """One task's output pipe and the log it feeds."""

    def __init__(self, fd: int, sink: LogSink) -> None:
        self.fd = fd
        self.sink = sink
        self.closed = False

    def drain(self) -> bool:
        """Copy what the pipe holds into the sink; return True at end of file."""
        while True:
            try:
                data = os.read(self.fd, _READ_BYTES)
            except BlockingIOError:
                return False
            if not data:
                return True
            self.sink.write(data)

    def close(self) -> None:
        """Close the pipe and the log file."""
        self.closed = True
        os.close(self.fd)
        self.sink.close()
