"""``task-queue mcp`` serves the same tools over stdio, calling gRPC."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.mcp.live import call, refusal, stdio_client
from tests.rest.live import RestServer
from tests.server_process import CHECKOUT, free_port, server_environment

pytestmark = pytest.mark.anyio


async def test_stdio_lists_the_tools_and_calls_them(mcp_server: RestServer) -> None:
    async with stdio_client(mcp_server.target) as client:
        listed = await client.list_tools()
        created = await call(
            client, "submit_task", name="via stdio", development_workflow=False
        )
        read = await call(client, "get_task", task_id=created["task"]["id"])
        refused = await refusal(client, "list_tasks", {"limit": "3"})

    assert len(listed.tools) == 19
    assert read["task"]["name"] == "via stdio"
    assert refused.startswith("invalid_argument: ")


async def test_stdio_accepts_the_http_url_of_the_server(
    mcp_server: RestServer,
) -> None:
    # http://host:port names the HTTP port; TASK_QUEUE_GRPC_PORT says gRPC's.
    grpc_port = {"TASK_QUEUE_GRPC_PORT": str(mcp_server.grpc_port)}
    async with stdio_client(mcp_server.url, env=grpc_port) as client:
        text = await refusal(client, "get_task", {"task_id": "nope"})

    assert text == "invalid_argument: task_id: 'nope' is not a UUID."


async def test_stdio_answers_unavailable_while_no_server_runs() -> None:
    target = f"127.0.0.1:{free_port()}"
    async with stdio_client(target) as client:
        text = await refusal(client, "get_stats", {})

    assert text == (
        f"unavailable: The task queue server at {target} is unavailable; is it "
        "running? Try again shortly."
    )


def test_the_mcp_command_has_help_and_import_taskqueue_stays_light() -> None:
    helped = subprocess.run(
        [sys.executable, "-m", "taskqueue", "mcp", "--help"],
        capture_output=True,
        text=True,
        env=server_environment(),
        cwd=CHECKOUT,
        check=False,
        timeout=60,
    )
    light = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, taskqueue, taskqueue.cli; print('mcp' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        env=server_environment(),
        cwd=CHECKOUT,
        check=True,
        timeout=60,
    )

    assert helped.returncode == 0, helped.stderr
    assert "--server-url" in helped.stdout and "--api-key" in helped.stdout
    assert light.stdout.strip() == "False"
