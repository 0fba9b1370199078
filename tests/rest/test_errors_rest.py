"""Malformed requests get JSON 4xx answers naming the field, never a 5xx."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.rest.live import RestServer, create_task, error_of

MiB = 1024 * 1024
DEEP = b"[" * 100_000 + b"]" * 100_000

# (body bytes, expected status, expected field; "x.*" means a prefix)
BAD_TASK_BODIES: list[tuple[bytes, int, str | None]] = [
    (b"{", 400, None),
    (b'{"name": "x",}', 400, None),
    (b'{"name": "\xff\xfe"}', 400, None),
    (DEEP, 400, None),
    (b'{"name": "x", "env": {"A": ' + DEEP + b"}}", 400, None),
    (b'{"name": "x", "timeout_seconds": ' + b"9" * 5000 + b"}", 400, None),
    (b"", 422, "body"),
    (b"null", 422, "body"),
    (b"[]", 422, "body"),
    (b'"name"', 422, "body"),
    (b"{}", 422, "name"),
    (b'{"name": ""}', 422, "name"),
    (b'{"name": "   "}', 422, "name"),
    (b'{"name": 5}', 422, "name"),
    (b'{"name": "x" , "name2": 1}', 422, "name2"),
    (b'{"name": "\\u0000"}', 422, "name"),
    (b'{"name": "\\ud800"}', 422, "name"),
    (b'{"name": "x", "env": {"\\udc80": "v"}}', 422, "env.*"),
    (b'{"name": "x", "timeout_seconds": NaN}', 422, "timeout_seconds"),
    (b'{"name": "x", "timeout_seconds": Infinity}', 422, "timeout_seconds"),
    (b'{"name": "x", "timeout_seconds": 1e400}', 422, "timeout_seconds"),
    (b'{"name": "x", "timeout_seconds": 2147483648}', 422, "timeout_seconds"),
    (b'{"name": "x", "timeout_seconds": -1}', 422, "timeout_seconds"),
    (b'{"name": "x", "timeout_seconds": 1.5}', 422, "timeout_seconds"),
    (b'{"name": "x", "timeout_seconds": "soon"}', 422, "timeout_seconds"),
    (b'{"name": "x", "max_retries": 99999999999999999999}', 422, "max_retries"),
    (b'{"name": "x", "retry_delay_seconds": NaN}', 422, "retry_delay_seconds"),
    (b'{"name": "x", "retry_delay_seconds": -0.5}', 422, "retry_delay_seconds"),
    (b'{"name": "x", "priority": "HIGH"}', 422, "priority"),
    (b'{"name": "x", "priority": 3}', 422, "priority"),
    (b'{"name": "x", "project_id": ""}', 422, "project_id"),
    (b'{"name": "x", "project_id": "not-a-uuid"}', 422, "project_id"),
    (b'{"name": "x", "env": []}', 422, "env"),
    (b'{"name": "x", "env": {"A": 1}}', 422, "env.A"),
    (b'{"name": "x", "env": {"A=B": "1"}}', 422, "env"),
    (b'{"name": "x", "tags": "t"}', 422, "tags"),
    (b'{"name": "x", "tags": ["ok", 7]}', 422, "tags[1]"),
    (b'{"name": "x", "working_dir": "relative"}', 422, "working_dir"),
    (b'{"name": "x", "start_after": "yesterday"}', 422, "start_after"),
    (b'{"name": "x", "start_after": "2030-01-01T00:00:00"}', 422, "start_after"),
    (b'{"name": "x", "start_after": "2030-01-01"}', 422, "start_after"),
    (b'{"name": "x", "start_after": "0001-01-01T00:00:00+01:00"}', 422, "start_after"),
    (b'{"name": "x", "depends_on": [{"task_id": "x"}]}', 422, "depends_on[0].task_id"),
    (b'{"name": "x", "depends_on": ["a"]}', 422, "depends_on[0]"),
    (b'{"name": "x", "depends_on": [{"key": "a"}]}', 422, "depends_on[0].task_id"),
    (b'{"name": "x", "development_workflow": "maybe"}', 422, "development_workflow"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_TASK_BODIES)
def test_a_malformed_task_body_is_a_json_4xx_naming_the_field(
    client: httpx.Client, body: bytes, status: int, field: str | None
) -> None:
    response = client.post(
        "/tasks", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == status, response.text
    error = error_of(response)
    if field is not None and field.endswith("*"):
        # A lone surrogate in a key reaches the message as replacement chars.
        assert error["field"].startswith(field[:-1]), error
        assert "\ufffd" in error["field"]
    else:
        assert error.get("field") == field
    if field is not None:
        assert error["code"] == "invalid_argument"
        assert field.split(".")[0].split("[")[0] in error["message"]
    else:
        assert error["code"] == "invalid_json"


def _workflow(**task: Any) -> dict[str, Any]:
    return {"name": "w", "tasks": [task]}


# (workflow body, the field the 422 names): refused before reaching gRPC.
BAD_WORKFLOW_BODIES: list[tuple[Any, str]] = [
    ({}, "name"),
    ({"name": "w"}, "tasks"),
    ({"name": "w", "tasks": {}}, "tasks"),
    ({"name": "w", "tasks": [{}]}, "tasks[0].key"),
    ({"name": "w", "project_id": "x", "tasks": [{"key": "a"}]}, "project_id"),
    (_workflow(key=""), "tasks[0].key"),
    (_workflow(key="a", colour=1), "tasks[0].colour"),
    (_workflow(key="a", priority="now"), "tasks[0].priority"),
    (_workflow(key="a", start_after="2030-01-01T00:00:00"), "tasks[0].start_after"),
    (_workflow(key="a", depends_on="b"), "tasks[0].depends_on"),
    (_workflow(key="a", depends_on=[3]), "tasks[0].depends_on[0]"),
    (
        _workflow(key="a", depends_on=[{"key": "b", "task_id": "b"}]),
        "tasks[0].depends_on[0].task_id",
    ),
    (
        _workflow(key="a", depends_on=[{"key": "b", "task_id": str(uuid.UUID(int=5))}]),
        "tasks[0].depends_on[0]",
    ),
]


@pytest.mark.parametrize(("body", "field"), BAD_WORKFLOW_BODIES)
def test_a_malformed_workflow_body_is_422_naming_the_field(
    client: httpx.Client, body: Any, field: str
) -> None:
    response = client.post("/workflows", json=body)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["field"] == field
    assert error["message"].startswith(field + ": ")


def test_a_body_that_is_not_json_is_422(client: httpx.Client) -> None:
    response = client.post(
        "/tasks", content=b"name=x", headers={"content-type": "text/plain"}
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == "body"


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": 7}',
        b'{"priority": "urgent"}',
        b'{"timeout_seconds": 4294967296}',
        b'{"retry_delay_seconds": Infinity}',
        b'{"env": {"A": null}}',
        b'{"status": "running"}',
        b'{"start_after": "2030-01-01T00:00:00"}',
        b'{"depends_on": [{"task_id": "x"}]}',
        b'{"depends_on": "x"}',
        b"[1, 2]",
        b"{",
    ],
)
def test_a_malformed_update_is_a_json_4xx(client: httpx.Client, body: bytes) -> None:
    task = create_task(client, "target")

    response = client.put(
        f"/tasks/{task['id']}",
        content=body,
        headers={"content-type": "application/json"},
    )

    assert response.status_code in (400, 422), response.text
    error_of(response)


@pytest.mark.parametrize(
    "url",
    [
        "/tasks/%ff",
        "/tasks/" + "a" * 5000,
        "/tasks/..%2f..%2fetc",
        "/tasks/%00",
        "/tasks/00000000-0000-0000-0000-000000000000/logs?offset=99999999999999999999",
        "/tasks/00000000-0000-0000-0000-000000000000/logs?max_bytes=0",
        "/tasks/00000000-0000-0000-0000-000000000000/logs?follow=perhaps",
        "/tasks?limit=0",
        "/tasks?limit=1e3",
        "/tasks?limit=99999999999999999999999999",
        "/tasks?cursor=" + "9" * 30,
        "/tasks?cursor=18446744073709551616",
        "/tasks?cursor=%ff",
        "/tasks?status=",
        "/tasks?project=",
        "/projects?cursor=-1",
        "/projects/%ff/tasks?status=nope",
        "/projects/00000000-0000-0000-0000-000000000000?cascade=sure",
        "/tasks/00000000-0000-0000-0000-000000000000?cascade=sure",
        "/workflows?limit=0",
        "/workflows?cursor=" + "9" * 30,
        "/workflows?project=x",
        "/workflows/%ff",
        "/workflows/not-a-uuid",
    ],
)
def test_malformed_paths_and_queries_are_json_4xx(
    client: httpx.Client, url: str
) -> None:
    response = client.get(url) if "cascade" not in url else client.delete(url)

    assert 400 <= response.status_code < 500, response.text
    error_of(response)


def test_a_body_over_one_mebibyte_is_413_by_content_length(
    client: httpx.Client,
) -> None:
    body = b'{"name": "big", "description": "' + b"x" * MiB + b'"}'

    response = client.post(
        "/tasks", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_a_chunked_body_over_one_mebibyte_is_413_by_reading(
    client: httpx.Client,
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "big", "description": "'
        for _ in range(20):
            yield b"x" * (128 * 1024)
        yield b'"}'

    response = client.post(
        "/tasks", content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


def test_a_body_just_under_the_limit_reaches_validation(
    client: httpx.Client,
) -> None:
    body = b'{"name": "big", "description": "' + b"x" * (MiB - 64) + b'"}'

    response = client.post(
        "/tasks", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == "description"


def test_an_unsupported_method_is_a_json_405(client: httpx.Client) -> None:
    response = client.patch(f"/tasks/{uuid.uuid4()}")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_no_malformed_request_left_a_traceback_in_the_server_log(
    rest_server: RestServer,
) -> None:
    log = rest_server.stderr_text()

    assert "Traceback" not in log
    assert " 500 " not in log
