"""How /mcp sits in the HTTP app: exact path, host guard, logs, shutdown."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.mcp.live import INITIALIZE, MCP_HEADERS, call, http_client, mcp_url
from tests.rest.live import RestServer, start_rest_server

pytestmark = pytest.mark.anyio


def test_mcp_answers_at_exactly_slash_mcp(mcp_server: RestServer) -> None:
    with mcp_server.client() as client:
        exact = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        slash = client.post("/mcp/", json=INITIALIZE, headers=MCP_HEADERS)
        listed = client.get("/openapi.json").json()["paths"]

    assert exact.status_code == 200, exact.text
    # Only /mcp serves MCP; /mcp/ is not found or sent back to /mcp (never
    # the reverse redirect a Mount would make, which clients stumble on).
    assert slash.status_code in (404, 307), slash.status_code
    if slash.status_code == 307:
        assert slash.headers["location"].endswith("/mcp")
    assert exact.headers["content-type"].startswith(
        ("text/event-stream", "application/json")
    )
    assert "/mcp" not in listed  # the REST document stays the REST API's


def test_a_foreign_host_header_is_refused_by_the_dns_rebinding_guard(
    mcp_server: RestServer,
) -> None:
    with mcp_server.client() as client:
        foreign = client.post(
            "/mcp",
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Host": f"evil.example:{mcp_server.http_port}"},
        )
        localhost = client.post(
            "/mcp",
            json=INITIALIZE,
            headers={**MCP_HEADERS, "Host": f"localhost:{mcp_server.http_port}"},
        )

    assert foreign.status_code == 421
    assert localhost.status_code == 200


async def test_the_access_log_names_the_mcp_route(mcp_server: RestServer) -> None:
    async with http_client(mcp_server) as client:
        await call(client, "get_stats")

    assert "POST /mcp 200" in mcp_server.stderr_text()


async def test_mcp_keeps_the_servers_log_level(tmp_path: Path) -> None:
    quiet = start_rest_server(tmp_path, environment={"TASK_QUEUE_LOG_LEVEL": "warning"})
    try:
        async with http_client(quiet) as client:
            await call(client, "get_stats")
            await client.call_tool("get_task", {"task_id": "nope"})
    finally:
        quiet.terminate()

    assert " INFO " not in quiet.stderr_text()


async def test_the_server_stops_at_once_while_a_client_holds_an_event_stream(
    tmp_path: Path,
) -> None:
    server = start_rest_server(tmp_path)
    try:
        async with httpx2.AsyncClient(trust_env=False) as http:
            transport = streamable_http_client(mcp_url(server), http_client=http)
            # The handshake-era protocol keeps a GET /mcp event stream open.
            async with Client(transport, mode="legacy") as client:
                await call(client, "get_stats")
                began = time.monotonic()
                code = server.stop()
                took = time.monotonic() - began
    except* (httpx2.HTTPError, OSError):
        pass  # the client's goodbye finds the server gone
    finally:
        server.terminate()

    assert code == 0
    assert took < 4.0, server.stderr_text()
    assert "GET /mcp 200" in server.stderr_text()
    assert " ERROR " not in server.stderr_text()
