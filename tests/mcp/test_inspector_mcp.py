"""The official MCP Inspector CLI (from npm) lists and calls the tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.mcp.live import mcp_url
from tests.rest.live import RestServer

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
# The first run downloads the Inspector into npm's cache.
NPX_TIMEOUT_SECONDS = 540

pytestmark = [
    pytest.mark.skipif(
        shutil.which("npx") is None,
        reason="npx (Node.js) is not installed; scripts/test needs it for buf too",
    ),
    pytest.mark.timeout(NPX_TIMEOUT_SECONDS * 2),
]


def _inspector(
    server: RestServer, tmp_path: Path, *arguments: str
) -> subprocess.CompletedProcess[str]:
    npx = shutil.which("npx")
    assert npx is not None
    env = {
        **os.environ,
        # Keep the Inspector's catalog and client config out of $HOME.
        "MCP_CATALOG_PATH": str(tmp_path / "mcp.json"),
        "MCP_CLIENT_CONFIG_PATH": str(tmp_path / "client.json"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [
            npx,
            "--yes",
            INSPECTOR,
            "--cli",
            mcp_url(server),
            "--transport",
            "http",
            *arguments,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=NPX_TIMEOUT_SECONDS,
    )


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON from the Inspector:\n{done.stdout}\n{done.stderr}")


def test_the_inspector_lists_the_tools_with_portable_schemas(
    mcp_server: RestServer, tmp_path: Path
) -> None:
    # --strict exits 6 on an error-severity schema portability problem.
    done = _inspector(mcp_server, tmp_path, "--method", "tools/list", "--strict")

    assert done.returncode == 0, done.stderr
    tools = _json(done)["tools"]
    assert len(tools) == 19
    assert tools[0]["name"] == "submit_task"
    assert all(tool["outputSchema"]["type"] == "object" for tool in tools)


def test_the_inspector_calls_a_tool_and_reads_its_error(
    mcp_server: RestServer, tmp_path: Path
) -> None:
    created = _inspector(
        mcp_server,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "create_project",
        "--tool-arg",
        "name=from the inspector",
        "--tool-arg",
        "max_parallel=2",
    )
    refused = _inspector(
        mcp_server,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "get_task",
        "--tool-arg",
        "task_id=nope",
    )

    assert created.returncode == 0, created.stderr
    project = json.loads(_json(created)["content"][0]["text"])
    assert (project["name"], project["max_parallel"]) == ("from the inspector", 2)
    assert refused.returncode != 0
    error = _json(refused)
    assert error["isError"] is True
    assert error["content"][0]["text"] == (
        "invalid_argument: task_id: 'nope' is not a UUID."
    )
