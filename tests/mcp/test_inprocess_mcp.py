"""The MCP server in process: unexpected failures and withheld details."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest
from mcp import Client

from tests.mcp.live import refusal
from tests.server_process import free_port
from tq_mcp import Gateway, create_server
from tq_mcp.errors import from_rpc

pytestmark = pytest.mark.anyio


def _rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details
    )


async def test_an_unexpected_failure_is_a_generic_error_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway(f"127.0.0.1:{free_port()}")

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(gateway, "call", broken)
    server = create_server(gateway, log_level="warning")
    with caplog.at_level(logging.INFO):
        async with Client(server) as client:
            text = await refusal(client, "get_stats", {})

    assert text == (
        "internal: the get_stats tool failed unexpectedly; the server's log has "
        "the details."
    )
    assert "secret detail" not in text
    assert [r.levelname for r in caplog.records if r.exc_info] == ["ERROR"]
    assert "RuntimeError: secret detail" in caplog.text


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (grpc.StatusCode.INTERNAL, "internal: Internal server error."),
        (grpc.StatusCode.UNKNOWN, "internal: Internal server error."),
        (grpc.StatusCode.UNIMPLEMENTED, "unimplemented: The task queue server"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "deadline_exceeded: The task queue"),
    ],
)
def test_statuses_that_may_hold_internal_detail_get_a_fixed_sentence(
    code: grpc.StatusCode, expected: str
) -> None:
    failure = from_rpc(_rpc_error(code, "Traceback: /srv/secret.py line 3"))

    assert str(failure).startswith(expected)
    assert "secret" not in str(failure)


def test_other_statuses_pass_the_servers_message_on() -> None:
    failure = from_rpc(
        _rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "id: 'x' is not a UUID."),
        {"id": "project_id"},
    )

    assert str(failure) == "invalid_argument: project_id: 'x' is not a UUID."
    assert failure.field == "project_id"
