"""With an API key set, /mcp needs it as REST does; stdio passes it to gRPC."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.mcp.live import (
    INITIALIZE,
    MCP_HEADERS,
    call,
    http_client,
    refusal,
    stdio_client,
)
from tests.rest.live import RestServer, start_rest_server

pytestmark = pytest.mark.anyio

KEY = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """Return a server that requires KEY."""
    server = start_rest_server(tmp_path_factory.mktemp("keyed"), api_key=KEY)
    try:
        yield server
    finally:
        server.terminate()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": KEY + "x"}],
    ids=["none", "wrong-bearer", "wrong-x-api-key"],
)
def test_mcp_without_the_key_is_401_before_any_session(
    keyed: RestServer, headers: dict[str, str]
) -> None:
    with keyed.client(key="") as client:
        answer = client.post(
            "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **headers}
        )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "mcp-session-id" not in answer.headers


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}],
    ids=["bearer", "x-api-key"],
)
async def test_mcp_with_the_key_as_bearer_or_x_api_key_calls_tools(
    keyed: RestServer, headers: dict[str, str]
) -> None:
    async with http_client(keyed, headers=headers) as client:
        stats = await call(client, "get_stats")
        created = await call(client, "create_project", name="keyed")

    assert stats["slots"] == keyed.slots
    assert created["name"] == "keyed"


def test_the_initialize_answer_with_the_key_is_not_a_redirect(
    keyed: RestServer,
) -> None:
    with keyed.client() as client:
        answer = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)

    assert answer.status_code == 200, answer.text
    assert answer.headers["mcp-session-id"]


async def test_stdio_sends_the_api_key_to_grpc(keyed: RestServer) -> None:
    async with stdio_client(keyed.target, "--api-key", KEY) as client:
        stats = await call(client, "get_stats")

    assert stats["slots"] == keyed.slots


async def test_stdio_without_the_key_answers_an_unauthenticated_tool_error(
    keyed: RestServer,
) -> None:
    async with stdio_client(keyed.target) as client:
        text = await refusal(client, "get_stats", {})

    assert text.startswith("unauthenticated: ")
    assert "--api-key" in text


def test_health_stays_open(keyed: RestServer) -> None:
    assert httpx.get(f"{keyed.url}/health", trust_env=False).status_code == 200
