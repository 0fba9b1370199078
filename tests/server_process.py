"""Run the real task-queue server as a subprocess and talk to it over gRPC."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tq_grpc._gen import (
    projects_pb2_grpc,
    system_pb2_grpc,
    tasks_pb2_grpc,
    workflows_pb2_grpc,
)

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 20.0
DEFAULT_SLOTS = 2
DEFAULT_KILL_GRACE_SECONDS = 2.0
STOP_TIMEOUT_SECONDS = 15.0
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]
# The server runs the code of the checkout these tests belong to.
CHECKOUT = Path(__file__).resolve().parents[1]


class ServerNotReady(RuntimeError):
    """The server exited or did not answer its health check in time."""


def free_port() -> int:
    """Return a TCP port on the loopback address that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def server_command(
    *, grpc_port: int, http_port: int, data_dir: Path, slots: int, grace: float
) -> list[str]:
    """Return the argv of ``python -m taskqueue serve`` with these settings."""
    return [
        sys.executable,
        "-m",
        "taskqueue",
        "serve",
        "--grpc-port",
        str(grpc_port),
        "--port",
        str(http_port),
        "--data-dir",
        str(data_dir),
        "--slots",
        str(slots),
        "--kill-grace-seconds",
        str(grace),
    ]


def server_environment() -> dict[str, str]:
    """Return this environment for the server, with this checkout importable.

    Settings in the environment (``TASK_QUEUE_*``, ``LOG_LEVEL``) are left
    out, so only the flags a test passes steer the server.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TASK_QUEUE_") and name != "LOG_LEVEL"
    }
    paths = [str(CHECKOUT), *filter(None, env.get("PYTHONPATH", "").split(":"))]
    env["PYTHONPATH"] = ":".join(paths)
    return env


class ServerProcess:
    """One server subprocess on a data directory, with stubs for its services.

    ``restart`` starts a new process on the same data directory; the stubs
    and ``target`` then point at the new process.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        work_dir: Path,
        slots: int,
        kill_grace_seconds: float,
    ) -> None:
        self.data_dir = data_dir
        self.work_dir = work_dir
        self.slots = slots
        self.kill_grace_seconds = kill_grace_seconds
        self.stderr_path = work_dir / "server-stderr.log"
        self.grpc_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._channel: grpc.Channel | None = None

    @property
    def target(self) -> str:
        """Return the host:port of the gRPC server."""
        return f"{HOST}:{self.grpc_port}"

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        """Return the running process; fail if none was started."""
        assert self.process is not None, "the server was never started"
        return self.process

    @property
    def channel(self) -> grpc.Channel:
        """Return the channel to the current process."""
        assert self._channel is not None, "the server is not running"
        return self._channel

    @property
    def tasks(self) -> tasks_pb2_grpc.TaskServiceStub:
        """Return a TaskService stub."""
        return tasks_pb2_grpc.TaskServiceStub(self.channel)

    @property
    def projects(self) -> projects_pb2_grpc.ProjectServiceStub:
        """Return a ProjectService stub."""
        return projects_pb2_grpc.ProjectServiceStub(self.channel)

    @property
    def system(self) -> system_pb2_grpc.SystemServiceStub:
        """Return a SystemService stub."""
        return system_pb2_grpc.SystemServiceStub(self.channel)

    @property
    def workflows(self) -> workflows_pb2_grpc.WorkflowServiceStub:
        """Return a WorkflowService stub."""
        return workflows_pb2_grpc.WorkflowServiceStub(self.channel)

    def launch(
        self, *, grpc_port: int | None = None, stderr_path: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a server process on the data directory; do not wait for it."""
        stderr = (stderr_path or self.stderr_path).open("ab")
        try:
            return subprocess.Popen(
                server_command(
                    grpc_port=grpc_port or free_port(),
                    http_port=free_port(),
                    data_dir=self.data_dir,
                    slots=self.slots,
                    grace=self.kill_grace_seconds,
                ),
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                cwd=self.work_dir,
                env=server_environment(),
            )
        finally:
            stderr.close()

    def start(self) -> None:
        """Start the server and wait until its health check says SERVING."""
        assert not self.running, "the server is already running"
        self.grpc_port = free_port()
        self.process = self.launch(grpc_port=self.grpc_port)
        self._channel = grpc.insecure_channel(self.target, options=CHANNEL_OPTIONS)
        try:
            self._wait_until_serving()
        except ServerNotReady:
            self.kill()
            raise

    @property
    def running(self) -> bool:
        """Return whether the current process has not exited."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int:
        """Send SIGTERM and return the exit code."""
        process = self.popen
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=STOP_TIMEOUT_SECONDS)
        finally:
            self._close_channel()
        return returncode

    def kill(self) -> None:
        """Kill the process with SIGKILL and reap it."""
        process = self.popen
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._close_channel()

    def restart(self) -> None:
        """Stop the server if it runs, then start it on the same data directory."""
        if self.running:
            self.stop()
        self.start()

    def terminate(self) -> None:
        """Stop the process however it takes; used in teardown."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_channel()

    def stderr_text(self) -> str:
        """Return everything the server processes wrote to stderr."""
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _wait_until_serving(self) -> None:
        health = health_pb2_grpc.HealthStub(self.channel)
        request = health_pb2.HealthCheckRequest(service="")
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise ServerNotReady(
                    f"the server exited with code {self.popen.returncode}:\n"
                    + self.stderr_text()
                )
            try:
                answer = health.Check(request, timeout=1.0)
            except grpc.RpcError:
                time.sleep(0.05)
                continue
            if answer.status == health_pb2.HealthCheckResponse.SERVING:
                return
            time.sleep(0.05)
        raise ServerNotReady(
            f"no SERVING health check within {READY_TIMEOUT_SECONDS:.0f} s:\n"
            + self.stderr_text()
        )

    def _close_channel(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None


class ServerFactory:
    """Start servers for one test; each gets its own data directory."""

    def __init__(self, base_dir: Path) -> None:
        self._base_dir = base_dir
        self.started: list[ServerProcess] = []

    def __call__(
        self,
        *,
        slots: int = DEFAULT_SLOTS,
        kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS,
    ) -> ServerProcess:
        """Start a server and return it once it answers SERVING."""
        work_dir = self._base_dir / f"server-{len(self.started)}"
        work_dir.mkdir()
        server = ServerProcess(
            data_dir=work_dir / "data",
            work_dir=work_dir,
            slots=slots,
            kill_grace_seconds=kill_grace_seconds,
        )
        self.started.append(server)
        server.start()
        return server

    def terminate_all(self) -> None:
        """Stop every server this factory started."""
        for server in self.started:
            server.terminate()
