"""The gRPC -> HTTP error table, and the JSON <-> protobuf mapping."""

from __future__ import annotations

import string
import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from tq_grpc._gen import tasks_pb2
from tq_rest import convert, schemas
from tq_rest.errors import HTTP_STATUS_OF, field_of, from_rpc


def _rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details
    )


def test_every_grpc_status_code_has_an_http_status() -> None:
    assert set(HTTP_STATUS_OF) == set(grpc.StatusCode)
    assert all(100 <= status < 600 for status in HTTP_STATUS_OF.values())


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.UNAVAILABLE, 503),
    ],
)
def test_the_statuses_the_server_uses_map_as_documented(
    code: grpc.StatusCode, status: int
) -> None:
    error = from_rpc(_rpc_error(code, "Task 1 is taken."))

    assert error.status == status
    assert error.code == code.name.lower()


def test_an_invalid_argument_names_the_rest_field() -> None:
    error = from_rpc(
        _rpc_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_token: is not a token this server issued.",
        ),
        {"page_token": "cursor"},
    )

    assert error.field == "cursor"
    assert error.message == "cursor: is not a token this server issued."


def test_an_internal_error_hides_the_server_details() -> None:
    error = from_rpc(_rpc_error(grpc.StatusCode.INTERNAL, "/secret/path blew up"))

    assert error.status == 500
    assert "secret" not in error.message


@pytest.mark.parametrize(
    ("location", "field"),
    [
        (("body", "name"), "name"),
        (("body", "env", "HOME"), "env.HOME"),
        (("body", "tags", 2), "tags[2]"),
        (("body", "depends_on", 0, "task_id"), "depends_on[0].task_id"),
        (("body", "env", "K", "[key]"), "env.K"),
        (("query", "limit"), "limit"),
        (("path", "id"), "id"),
        (("body",), "body"),
    ],
)
def test_validation_locations_become_field_names(
    location: tuple[Any, ...], field: str
) -> None:
    assert field_of(location) == field


# -- JSON -> TaskSpec -> JSON --------------------------------------------

text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=20,
)
int32 = st.integers(0, schemas.INT32_MAX)
moment = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31),
    timezones=st.just(UTC),
).map(lambda d: d.isoformat(timespec="microseconds").replace("+00:00", "Z"))
identifier = st.uuids().map(str)

task_json = st.fixed_dictionaries(
    {
        "name": text.filter(lambda s: 0 < len(s) <= 256),
        "command": text,
        "description": text,
        "project_id": st.none() | identifier,
        "priority": st.sampled_from(["low", "normal", "high", "critical"]),
        "working_dir": st.just("") | text.map(lambda s: "/" + s),
        "env": st.dictionaries(st.text(string.ascii_letters, min_size=1), text),
        "timeout_seconds": int32,
        "tags": st.lists(text),
        "idempotency_key": st.none() | text.filter(bool),
        "depends_on": st.lists(
            st.fixed_dictionaries(
                {
                    "task_id": identifier,
                    "condition": st.sampled_from(["success", "failure", "completion"]),
                }
            )
        ),
        "max_retries": int32,
        "retry_delay_seconds": st.floats(0, schemas.INT32_MAX, allow_nan=False),
        "start_after": st.none() | moment,
        "development_workflow": st.booleans(),
    }
)


def _as_task(spec: tasks_pb2.TaskSpec) -> tasks_pb2.Task:
    """Copy a spec's fields into a Task, as the server stores them."""
    fields = json_format.MessageToDict(spec, preserving_proto_field_name=True)
    return json_format.ParseDict(fields, tasks_pb2.Task())


@settings(max_examples=200, deadline=None)
@given(task_json)
def test_task_spec_json_survives_the_trip_through_protobuf(
    document: dict[str, Any],
) -> None:
    body = schemas.TaskCreate.model_validate(document)

    spec = tasks_pb2.TaskSpec.FromString(convert.task_spec(body).SerializeToString())
    back = convert.task_json(_as_task(spec))

    assert {name: back[name] for name in document} == document


def test_task_spec_json_round_trip_keeps_an_explicit_example() -> None:
    document = {
        "name": "build",
        "command": "make",
        "description": "",
        "project_id": str(uuid.UUID(int=1)),
        "priority": "high",
        "working_dir": "/src",
        "env": {"A": "1"},
        "timeout_seconds": 60,
        "tags": ["ci"],
        "idempotency_key": "k",
        "depends_on": [{"task_id": str(uuid.UUID(int=2)), "condition": "failure"}],
        "max_retries": 2,
        "retry_delay_seconds": 0.5,
        "start_after": "2026-12-04T16:00:00.123456Z",
        "development_workflow": True,
    }

    spec = convert.task_spec(schemas.TaskCreate.model_validate(document))

    back = convert.task_json(_as_task(spec))
    assert set(document) == set(schemas.TaskCreate.model_fields)
    assert {name: back[name] for name in document} == document
