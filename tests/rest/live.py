"""Run the real server with its HTTP port known, and talk to it with httpx."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.server_process import (
    HOST,
    ServerNotReady,
    ServerProcess,
    free_port,
    server_command,
    server_environment,
)

T = TypeVar("T")

HTTP_READY_TIMEOUT_SECONDS = 20.0
JSON = "application/json"


class RestServer(ServerProcess):
    """A server subprocess whose HTTP port, API key and settings tests choose."""

    def __init__(
        self,
        *,
        data_dir: Path,
        work_dir: Path,
        slots: int = 2,
        kill_grace_seconds: float = 2.0,
        api_key: str = "",
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            data_dir=data_dir,
            work_dir=work_dir,
            slots=slots,
            kill_grace_seconds=kill_grace_seconds,
        )
        self.api_key = api_key
        self.environment = dict(environment or {})
        self.http_port = 0

    @property
    def url(self) -> str:
        """Return the base URL of the REST API."""
        return f"http://{HOST}:{self.http_port}"

    def launch(
        self, *, grpc_port: int | None = None, data_dir: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start the process with a fresh HTTP port; the key travels in env."""
        self.http_port = free_port()
        env = server_environment() | self.environment
        if self.api_key:
            env["TASK_QUEUE_API_KEY"] = self.api_key
        stderr = self.stderr_path.open("ab")
        try:
            return subprocess.Popen(
                server_command(
                    grpc_port=grpc_port or free_port(),
                    http_port=self.http_port,
                    data_dir=data_dir or self.data_dir,
                    slots=self.slots,
                    grace=self.kill_grace_seconds,
                ),
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                cwd=self.work_dir,
                env=env,
            )
        finally:
            stderr.close()

    def start(self) -> None:
        """Start the server and wait until gRPC and HTTP both answer."""
        super().start()
        deadline = time.monotonic() + HTTP_READY_TIMEOUT_SECONDS
        with self.client() as client:
            while time.monotonic() < deadline:
                try:
                    if client.get("/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        raise ServerNotReady("/health did not answer 200:\n" + self.stderr_text())

    def client(self, *, key: str | None = None, **options: Any) -> httpx.Client:
        """Return an httpx client of the REST API; key defaults to the server's."""
        key = self.api_key if key is None else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=options.pop("timeout", 15.0),
            trust_env=False,
            **options,
        )


def start_rest_server(base_dir: Path, **options: Any) -> RestServer:
    """Start a RestServer in a fresh directory under base_dir."""
    work_dir = base_dir / f"server-{time.monotonic_ns()}"
    work_dir.mkdir()
    server = RestServer(data_dir=work_dir / "data", work_dir=work_dir, **options)
    server.start()
    return server


def wait_until(
    probe: Callable[[], T | None], *, timeout: float = 10.0, what: str = "it"
) -> T:
    """Return the first truthy value of probe; fail once timeout has passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def create_task(client: httpx.Client, name: str = "t", **fields: Any) -> dict[str, Any]:
    """Create a task over REST and return its JSON document."""
    response = client.post("/tasks", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def wait_status(
    client: httpx.Client, task_id: str, *statuses: str, timeout: float = 10.0
) -> dict[str, Any]:
    """Return the task once its status is one of statuses."""

    def probe() -> dict[str, Any] | None:
        task: dict[str, Any] = client.get(f"/tasks/{task_id}").json()
        return task if task["status"] in statuses else None

    return wait_until(probe, timeout=timeout, what=f"task {task_id} in {statuses}")


def error_of(response: httpx.Response) -> dict[str, Any]:
    """Return the error object of an error response, checking its shape."""
    assert response.headers["content-type"].startswith(JSON), response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "field"}, error
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error


def moment(text: str) -> datetime:
    """Return the datetime of an RFC 3339 time the API answered."""
    return datetime.fromisoformat(text)


def create_workflow(client: httpx.Client, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a workflow over REST and return its JSON document."""
    response = client.post("/workflows", json=body)
    assert response.status_code == 201, response.text
    workflow: dict[str, Any] = response.json()
    return workflow


def wait_workflow(
    client: httpx.Client, workflow_id: str, *statuses: str, timeout: float = 15.0
) -> dict[str, Any]:
    """Return the workflow once its status is one of statuses."""

    def probe() -> dict[str, Any] | None:
        workflow: dict[str, Any] = client.get(f"/workflows/{workflow_id}").json()
        return workflow if workflow["status"] in statuses else None

    return wait_until(
        probe, timeout=timeout, what=f"workflow {workflow_id} in {statuses}"
    )


def tasks_by_key(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return a workflow's tasks by key."""
    return {item["key"]: item["task"] for item in workflow["tasks"]}
