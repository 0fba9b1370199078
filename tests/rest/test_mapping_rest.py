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
from pydantic import ValidationError

from tq_grpc._gen import common_pb2, tasks_pb2, workflows_pb2
from tq_rest import convert, schemas
from tq_rest.errors import HTTP_STATUS_OF, field_of, from_rpc, renamed


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


# -- scheduling fields, updates and workflows ------------------------------


def test_a_time_without_an_offset_is_refused_and_one_with_an_offset_is_utc() -> None:
    with pytest.raises(ValidationError) as refused:
        schemas.TaskCreate.model_validate(
            {"name": "x", "start_after": "2030-01-01T09:00:00"}
        )
    later = schemas.TaskCreate.model_validate(
        {"name": "x", "start_after": "2030-01-01T09:00:00+01:00"}
    )

    assert refused.value.errors()[0]["loc"] == ("start_after",)
    assert "offset" in refused.value.errors()[0]["msg"]
    assert later.start_after == datetime(2030, 1, 1, 8, tzinfo=UTC)


def test_an_update_sets_clears_or_keeps_start_after_and_depends_on() -> None:
    dependency = str(uuid.UUID(int=7))
    given = schemas.TaskUpdate.model_validate(
        {
            "start_after": "2030-01-01T00:00:00Z",
            "depends_on": [{"task_id": dependency, "condition": "completion"}],
        }
    )
    cleared = schemas.TaskUpdate.model_validate({"start_after": None, "depends_on": []})
    untouched = schemas.TaskUpdate.model_validate({"name": "n"})

    set_request = convert.task_update("t", given)
    clear_request = convert.task_update("t", cleared)
    keep_request = convert.task_update("t", untouched)

    assert set_request.start_after.ToDatetime(UTC) == datetime(2030, 1, 1, tzinfo=UTC)
    assert not set_request.clear_start_after
    assert set_request.update_depends_on
    assert [(d.task_id, d.condition) for d in set_request.depends_on] == [
        (dependency, tasks_pb2.DEPENDENCY_CONDITION_COMPLETION)
    ]
    assert clear_request.clear_start_after
    assert not clear_request.HasField("start_after")
    assert clear_request.update_depends_on and not clear_request.depends_on
    assert not keep_request.clear_start_after
    assert not keep_request.HasField("start_after")
    assert not keep_request.update_depends_on


def test_task_json_shows_blocked_by_workflow_id_and_retry_at() -> None:
    task = tasks_pb2.Task(id="t", blocked_by="waiting for a", workflow_id="w")
    task.retry_at.FromDatetime(datetime(2030, 1, 1, tzinfo=UTC))

    document = convert.task_json(task)
    plain = convert.task_json(tasks_pb2.Task(id="t"))

    assert document["blocked_by"] == "waiting for a"
    assert document["workflow_id"] == "w"
    assert document["retry_at"] == "2030-01-01T00:00:00.000000Z"
    assert (plain["blocked_by"], plain["workflow_id"], plain["retry_at"]) == (
        "",
        None,
        None,
    )
    assert set(document) == set(schemas.Task.model_fields)


OUTSIDE = str(uuid.UUID(int=9))
WORKFLOW = {
    "name": "build",
    "project_id": str(uuid.UUID(int=1)),
    "tasks": [
        {"key": "a", "name": "Fetch", "command": "echo a", "priority": "high"},
        {"key": "b", "command": "make", "depends_on": ["a"]},
        {
            "key": "notify",
            "command": "echo failed",
            "depends_on": [{"key": "b", "condition": "failure"}],
        },
        {
            "key": "c",
            "command": "true",
            "start_after": "2030-01-01T00:00:00Z",
            "depends_on": [
                {"task_id": OUTSIDE, "condition": "completion"},
                "a",
                {"key": "b", "condition": "completion"},
            ],
        },
    ],
}


def test_a_workflow_body_becomes_key_edges_and_edges_to_outside_tasks() -> None:
    built = convert.workflow_create(schemas.WorkflowCreate.model_validate(WORKFLOW))
    request = workflows_pb2.CreateWorkflowRequest.FromString(
        built.request.SerializeToString()
    )

    assert (request.name, request.project_id) == ("build", str(uuid.UUID(int=1)))
    assert [t.key for t in request.tasks] == ["a", "b", "notify", "c"]
    # No name: the server names the task after its key.
    assert [t.task.name for t in request.tasks] == ["Fetch", "", "", ""]
    assert request.tasks[0].task.priority == common_pb2.PRIORITY_HIGH
    assert [(d.key, d.condition) for d in request.tasks[1].depends_on] == [
        ("a", tasks_pb2.DEPENDENCY_CONDITION_SUCCESS)
    ]
    assert [(d.key, d.condition) for d in request.tasks[2].depends_on] == [
        ("b", tasks_pb2.DEPENDENCY_CONDITION_FAILURE)
    ]
    c = request.tasks[3]
    assert [(d.key, d.condition) for d in c.depends_on] == [
        ("a", tasks_pb2.DEPENDENCY_CONDITION_SUCCESS),
        ("b", tasks_pb2.DEPENDENCY_CONDITION_COMPLETION),
    ]
    assert [(d.task_id, d.condition) for d in c.task.depends_on] == [
        (OUTSIDE, tasks_pb2.DEPENDENCY_CONDITION_COMPLETION)
    ]
    assert c.task.start_after.ToDatetime(UTC) == datetime(2030, 1, 1, tzinfo=UTC)
    # A task without a project is left to the server (the workflow's).
    assert c.task.project_id == ""


@pytest.mark.parametrize(
    ("server_field", "rest_field"),
    [
        # tasks[3] sent: [{task_id}, "a", {key: "b"}]
        ("tasks[3].depends_on[0].key", "tasks[3].depends_on[1].key"),
        ("tasks[3].depends_on[1]", "tasks[3].depends_on[2]"),
        ("tasks[3].depends_on[0].task_id", "tasks[3].depends_on[0].task_id"),
        ("tasks[3].task.depends_on[0].task_id", "tasks[3].depends_on[0].task_id"),
        ("tasks[3].task.start_after", "tasks[3].start_after"),
        ("tasks[3].start_after", "tasks[3].start_after"),
        ("tasks[1].key", "tasks[1].key"),
        ("tasks[3].depends_on[5].key", "tasks[3].depends_on[5].key"),
        ("tasks", "tasks"),
        ("project_id", "project_id"),
    ],
)
def test_server_errors_name_the_workflow_entry_the_client_sent(
    server_field: str, rest_field: str
) -> None:
    built = convert.workflow_create(schemas.WorkflowCreate.model_validate(WORKFLOW))
    error = from_rpc(
        _rpc_error(grpc.StatusCode.INVALID_ARGUMENT, f"{server_field}: is wrong.")
    )

    named = renamed(error, built.rest_field)

    assert named.field == rest_field
    assert named.message == f"{rest_field}: is wrong."
    assert named.status == 422


@pytest.mark.parametrize(
    ("entry", "location"),
    [
        ({"key": "a", "task_id": OUTSIDE}, ("tasks", 0, "depends_on", 0)),
        ({"condition": "failure"}, ("tasks", 0, "depends_on", 0)),
        (7, ("tasks", 0, "depends_on", 0)),
        ("", ("tasks", 0, "depends_on", 0, "key")),
        ({"task_id": "nope"}, ("tasks", 0, "depends_on", 0, "task_id")),
        ({"key": "a", "condition": "no"}, ("tasks", 0, "depends_on", 0, "condition")),
    ],
)
def test_a_malformed_workflow_dependency_is_refused_naming_the_entry(
    entry: Any, location: tuple[Any, ...]
) -> None:
    with pytest.raises(ValidationError) as refused:
        schemas.WorkflowCreate.model_validate(
            {"name": "w", "tasks": [{"key": "b", "depends_on": [entry]}]}
        )

    assert refused.value.errors()[0]["loc"] == location


def test_workflow_json_lists_tasks_and_edges_only_when_detailed() -> None:
    workflow = workflows_pb2.Workflow(
        id="w",
        name="build",
        status=workflows_pb2.WORKFLOW_STATUS_RUNNING,
        progress=workflows_pb2.WorkflowProgress(total=2, running=1, completed=1),
        tasks=[workflows_pb2.WorkflowTask(key="a", task=tasks_pb2.Task(id="t1"))],
        edges=[
            workflows_pb2.WorkflowEdge(
                source_key="a",
                target_key="b",
                source_task_id="t1",
                target_task_id="t2",
                condition=tasks_pb2.DEPENDENCY_CONDITION_FAILURE,
            ),
            workflows_pb2.WorkflowEdge(
                source_key="c", target_key="b", source_task_id="t3", target_task_id="t2"
            ),
        ],
    )
    workflow.created_at.FromDatetime(datetime(2026, 12, 4, tzinfo=UTC))

    detailed = convert.workflow_json(workflow)
    summary = convert.workflow_json(workflow, detailed=False)

    assert detailed["status"] == "running"
    assert detailed["project_id"] is None
    assert detailed["progress"] == {
        "total": 2,
        "pending": 0,
        "waiting_for_dependencies": 0,
        "running": 1,
        "completed": 1,
        "failed": 0,
        "cancelled": 0,
    }
    assert detailed["tasks"][0]["key"] == "a"
    assert detailed["tasks"][0]["task"]["id"] == "t1"
    assert detailed["edges"] == [
        {
            "source_key": "a",
            "target_key": "b",
            "source_task_id": "t1",
            "target_task_id": "t2",
            "condition": "failure",
        },
        {
            "source_key": "c",
            "target_key": "b",
            "source_task_id": "t3",
            "target_task_id": "t2",
            "condition": "success",
        },
    ]
    assert set(detailed) == set(schemas.Workflow.model_fields)
    assert set(summary) == set(schemas.WorkflowSummary.model_fields)
    schemas.Workflow.model_validate(detailed)
    schemas.WorkflowSummary.model_validate(summary)


def test_an_unimplemented_call_does_not_show_grpc_internals() -> None:
    error = from_rpc(
        _rpc_error(
            grpc.StatusCode.UNIMPLEMENTED,
            "Unexpected <class 'NotImplementedError'>: Method not implemented!",
        )
    )

    assert error.status == 501
    assert "NotImplementedError" not in error.message
