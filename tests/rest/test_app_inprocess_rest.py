"""The app in process: gRPC unreachable, unexpected errors, CORS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from tests.rest.live import RestServer, create_task
from tests.server_process import free_port
from tq_grpc.settings import Settings
from tq_rest import close_streams, create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, like the server."""
    return "asyncio"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and return a client that calls it in process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1"
        ) as client:
            yield client


def _unreachable(**settings: object) -> FastAPI:
    target = f"127.0.0.1:{free_port()}"
    return create_app(grpc_target=target, settings=Settings(**settings))  # type: ignore[arg-type]


async def test_every_route_answers_503_when_grpc_is_unreachable() -> None:
    async with serving(_unreachable()) as client:
        answers = [
            await client.get("/tasks"),
            await client.post("/tasks", json={"name": "x"}),
            await client.get("/tasks/00000000-0000-0000-0000-000000000000"),
            await client.get("/projects"),
            await client.get("/stats"),
            await client.get("/events"),
        ]
        health = await client.get("/health")
        metrics = await client.get("/metrics")

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "unavailable"
        assert "try again" in answer.json()["error"]["message"]
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable"}
    assert metrics.status_code == 200
    assert "taskqueue_backend_up 0.0" in metrics.text


async def test_an_unexpected_exception_is_logged_and_becomes_a_json_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = _unreachable()

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with caplog.at_level(logging.INFO, logger="tq_rest"):
        async with serving(app) as client:
            response = await client.get("/broken")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "Internal server error."}
    }
    assert any(r.exc_info and "GET /broken" in r.getMessage() for r in caplog.records)
    assert "a bug" not in response.text


async def test_each_request_is_one_access_log_line_with_the_route_template(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="tq_rest.access"):
        async with serving(_unreachable(api_key="s3cret")) as client:
            await client.get(
                "/tasks/00000000-0000-0000-0000-000000000000",
                headers={"Authorization": "Bearer wrong-key"},
            )
            await client.get("/tasks/not-a-uuid", headers={"X-API-Key": "s3cret"})

    lines = [r.getMessage() for r in caplog.records if r.name == "tq_rest.access"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /tasks/{id} 401 ")
    assert lines[1].startswith("GET /tasks/{id} 422 ")
    assert all(line.endswith("ms") for line in lines)
    assert not any("s3cret" in r.getMessage() for r in caplog.records)
    assert not any("wrong-key" in r.getMessage() for r in caplog.records)


async def test_cors_headers_only_when_enabled_and_preflight_needs_no_key() -> None:
    origin = {"Origin": "http://localhost:3000"}
    preflight = {
        **origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }

    async with serving(_unreachable(api_key="k", enable_cors=True)) as client:
        allowed = await client.options("/tasks", headers=preflight)
        refused = await client.get("/tasks", headers=origin)
    async with serving(_unreachable()) as client:
        plain = await client.get("/health", headers=origin)

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] in ("*", origin["Origin"])
    assert refused.status_code == 401
    assert "access-control-allow-origin" in refused.headers
    assert "access-control-allow-origin" not in plain.headers


async def test_metrics_route_is_absent_when_metrics_are_disabled() -> None:
    async with serving(_unreachable(enable_metrics=False)) as client:
        response = await client.get("/metrics")

    assert response.status_code == 404


async def test_close_streams_ends_open_event_and_log_streams(
    rest_server: RestServer,
) -> None:
    app = create_app(grpc_target=rest_server.target, settings=Settings())
    with rest_server.client() as http:
        silent = create_task(http, "silent", command="sleep 30")

    async with serving(app) as client:

        async def read(url: str) -> httpx.Response:
            return await client.get(url)

        events = asyncio.create_task(read("/events"))
        logs = asyncio.create_task(read(f"/tasks/{silent['id']}/logs?follow=true"))
        await asyncio.sleep(0.5)
        assert not events.done() and not logs.done()
        close_streams(app)
        answers = await asyncio.wait_for(asyncio.gather(events, logs), timeout=5)

    with rest_server.client() as http:
        http.post(f"/tasks/{silent['id']}/cancel", json={"reason": "done"})
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].text.startswith(": stream open")
    assert answers[1].content == b""
