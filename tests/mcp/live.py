"""MCP clients of a real server: streamable HTTP at /mcp, or stdio."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from tests.rest.live import RestServer
from tests.server_process import CHECKOUT, server_environment

TIMEOUT_SECONDS = 30.0
# A bare initialize request, for tests that speak HTTP to /mcp themselves.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def mcp_url(server: RestServer) -> str:
    """Return the URL of the server's MCP endpoint."""
    return f"{server.url}/mcp"


@asynccontextmanager
async def http_client(
    server: RestServer, *, headers: dict[str, str] | None = None
) -> AsyncIterator[Client]:
    """Return an MCP client session over streamable HTTP, kept open."""
    if headers is None and server.api_key:
        headers = {"Authorization": f"Bearer {server.api_key}"}
    async with httpx2.AsyncClient(
        headers=headers or {},
        timeout=httpx2.Timeout(TIMEOUT_SECONDS),
        trust_env=False,
    ) as http:
        transport = streamable_http_client(mcp_url(server), http_client=http)
        async with Client(transport, read_timeout_seconds=TIMEOUT_SECONDS) as client:
            yield client


def stdio_parameters(
    target: str, *extra: str, env: dict[str, str] | None = None
) -> StdioServerParameters:
    """Return how to start ``task-queue mcp`` against a server URL."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "taskqueue", "mcp", "--server-url", target, *extra],
        env=server_environment() | (env or {}),
        cwd=str(CHECKOUT),
    )


@asynccontextmanager
async def stdio_client(
    target: str, *extra: str, env: dict[str, str] | None = None
) -> AsyncIterator[Client]:
    """Return an MCP client session of a ``task-queue mcp`` subprocess."""
    parameters = stdio_parameters(target, *extra, env=env)
    async with Client(parameters, read_timeout_seconds=TIMEOUT_SECONDS) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool} failed: {text_of(result)}"
    assert result.structured_content is not None, f"{tool}: no structured content"
    content: dict[str, Any] = result.structured_content
    # The text block carries the same document for clients without structure.
    assert json.loads(text_of(result)) == content
    return content


async def refusal(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """Call a tool that must fail; return the text of its error."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} should have failed: {result.structured_content}"
    return text_of(result)


def text_of(result: CallToolResult) -> str:
    """Return the text of a result's single text block."""
    assert len(result.content) == 1, result.content
    block = result.content[0]
    assert block.type == "text", block
    return block.text
