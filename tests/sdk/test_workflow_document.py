"""The workflow document and the new task fields, mapped to protobuf; no server."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from taskqueue import (
    Dependency,
    NotFoundError,
    TaskNotFoundError,
    TaskQueueClient,
    ValidationError,
    Workflow,
)
from taskqueue.errors import error_class
from taskqueue.models import (
    aware_time,
    task_spec,
    task_update,
    workflow_create,
)
from tq_grpc._gen import common_pb2, tasks_pb2, workflows_pb2

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workflow.yaml"
SUCCESS = tasks_pb2.DEPENDENCY_CONDITION_SUCCESS
FAILURE = tasks_pb2.DEPENDENCY_CONDITION_FAILURE
COMPLETION = tasks_pb2.DEPENDENCY_CONDITION_COMPLETION
OUTSIDE_ID = "0b6e2c1a-9f4d-4c3e-8a7b-1d2e3f4a5b6c"


def edges(spec: workflows_pb2.WorkflowTaskSpec) -> list[tuple[str, int]]:
    return [(d.key, d.condition) for d in spec.depends_on]


def by_key(request: workflows_pb2.CreateWorkflowRequest) -> dict[str, Any]:
    return {item.key: item for item in request.tasks}


def refused(document: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        workflow_create(document, **kwargs)
    return str(caught.value)


# The example document


def test_the_example_document_maps_every_task_and_edge() -> None:
    request = workflow_create(yaml.safe_load(EXAMPLE.read_text()))

    tasks = by_key(request)
    assert request.name == "build"
    assert list(tasks) == [
        "fetch",
        "build",
        "lint",
        "test",
        "report-failure",
        "cleanup",
    ]
    assert tasks["fetch"].task.name == "Fetch sources"
    assert tasks["fetch"].task.priority == common_pb2.PRIORITY_HIGH
    # No name: the server names the task after its key.
    assert tasks["build"].task.name == ""
    assert tasks["build"].task.max_retries == 2
    assert tasks["build"].task.retry_delay_seconds == 1.0
    assert tasks["test"].task.env == {"CI": "1"}
    assert edges(tasks["build"]) == [("fetch", SUCCESS)]
    assert edges(tasks["report-failure"]) == [("build", FAILURE)]
    assert edges(tasks["cleanup"]) == [("test", COMPLETION), ("lint", COMPLETION)]
    assert all(not item.task.depends_on for item in request.tasks)


# Edges


def test_a_task_id_edge_goes_to_the_task_spec_and_a_key_edge_to_the_workflow() -> None:
    request = workflow_create(
        {
            "name": "w",
            "tasks": [
                {"key": "a", "command": "true"},
                {
                    "key": "b",
                    "command": "true",
                    "depends_on": [
                        "a",
                        {"task_id": OUTSIDE_ID, "condition": "completion"},
                        {"task_id": OUTSIDE_ID.upper()},
                    ],
                },
            ],
        }
    )

    b = by_key(request)["b"]
    assert edges(b) == [("a", SUCCESS)]
    assert [(d.task_id, d.condition) for d in b.task.depends_on] == [
        (OUTSIDE_ID, COMPLETION),
        (OUTSIDE_ID.upper(), SUCCESS),
    ]


def test_a_name_with_tasks_is_the_same_request_as_the_document() -> None:
    tasks = [{"key": "a", "command": "echo a"}, {"key": "b", "depends_on": ["a"]}]

    from_name = workflow_create("w", tasks, project_id="p1", description="d")
    from_document = workflow_create(
        {
            "name": "w",
            "project_id": "p1",
            "description": "d",
            "tasks": tasks,
        }
    )

    assert from_name == from_document


def test_arguments_win_over_the_document_project_and_description() -> None:
    document = {"name": "w", "project_id": "p1", "description": "d", "tasks": []}

    request = workflow_create(document, project_id="p2", description="other")

    assert (request.project_id, request.description) == ("p2", "other")


def test_every_task_field_reaches_the_task_spec() -> None:
    start = "2030-01-02T03:04:05+02:00"
    request = workflow_create(
        {
            "name": "w",
            "tasks": [
                {
                    "key": "a",
                    "name": "A",
                    "command": "make",
                    "description": "desc",
                    "project_id": "p1",
                    "priority": "critical",
                    "working_dir": "/srv",
                    "env": {"PORT": 8080, "MODE": "x"},
                    "timeout_seconds": 60,
                    "max_retries": 3,
                    "retry_delay_seconds": 1.5,
                    "start_after": start,
                    "tags": ["t1", "t2"],
                    "idempotency_key": "k1",
                }
            ],
        }
    )

    spec = request.tasks[0].task
    assert (spec.name, spec.command, spec.description) == ("A", "make", "desc")
    assert (spec.project_id, spec.working_dir) == ("p1", "/srv")
    assert spec.priority == common_pb2.PRIORITY_CRITICAL
    assert dict(spec.env) == {"PORT": "8080", "MODE": "x"}
    assert (spec.timeout_seconds, spec.max_retries) == (60, 3)
    assert spec.retry_delay_seconds == 1.5
    assert spec.start_after.ToDatetime(tzinfo=UTC) == datetime.fromisoformat(start)
    assert list(spec.tags) == ["t1", "t2"]
    assert spec.idempotency_key == "k1"


def test_a_yaml_timestamp_with_an_offset_is_accepted() -> None:
    document = yaml.safe_load(
        "name: w\ntasks:\n  - key: a\n    start_after: 2030-01-02T03:04:05Z\n"
    )

    spec = workflow_create(document).tasks[0].task

    assert spec.start_after.ToDatetime(tzinfo=UTC) == datetime(
        2030, 1, 2, 3, 4, 5, tzinfo=UTC
    )


# Refusals name the field


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"nmae": "w", "tasks": []},
            "nmae: unknown field; did you mean name?",
        ),
        (
            {"name": "w", "tasks": [{"key": "a"}, {"key": "b", "comand": "x"}]},
            "tasks[1].comand: unknown field; did you mean command?",
        ),
        (
            {"name": "w", "tasks": [{"key": "a", "zzz": 1}]},
            "tasks[0].zzz: unknown field; expected one of key, name,",
        ),
        (
            {
                "name": "w",
                "tasks": [
                    {"key": "a"},
                    {"key": "b", "depends_on": [{"key": "a", "conditon": "failure"}]},
                ],
            },
            "tasks[1].depends_on[0].conditon: unknown field; did you mean condition?",
        ),
        (
            {
                "name": "w",
                "tasks": [{"key": "b", "depends_on": [{"task_id": "x", "kee": 1}]}],
            },
            "tasks[0].depends_on[0].kee: unknown field",
        ),
    ],
)
def test_an_unknown_field_is_named_with_its_path(
    document: dict[str, Any], expected: str
) -> None:
    assert refused(document).startswith(expected)


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"command": "true"}, "tasks[0].key: is required."),
        ({"key": 1}, "tasks[0].key: expected text, got the int 1."),
        ({"key": "a", "command": True}, "tasks[0].command: expected text"),
        ({"key": "a", "timeout_seconds": "10"}, "tasks[0].timeout_seconds: expected"),
        ({"key": "a", "timeout_seconds": 2**40}, "tasks[0].timeout_seconds: "),
        ({"key": "a", "max_retries": 1.5}, "tasks[0].max_retries: expected a whole"),
        ({"key": "a", "retry_delay_seconds": "1"}, "tasks[0].retry_delay_seconds:"),
        ({"key": "a", "priority": "urgent"}, "tasks[0].priority: 'urgent' is not"),
        ({"key": "a", "env": ["A=1"]}, "tasks[0].env: expected a mapping"),
        ({"key": "a", "env": {"A": None}}, "tasks[0].env.A: expected text"),
        ({"key": "a", "tags": "t1"}, "tasks[0].tags: expected a list"),
        ({"key": "a", "tags": [1]}, "tasks[0].tags[0]: expected text"),
        (
            {"key": "a", "development_workflow": "yes"},
            "tasks[0].development_workflow: expected true or false",
        ),
        ({"key": "a", "depends_on": "b"}, "tasks[0].depends_on: expected a list"),
        ({"key": "a", "depends_on": [7]}, "tasks[0].depends_on[0]: expected a key"),
        (
            {"key": "a", "depends_on": [{"key": "b", "condition": "maybe"}]},
            "tasks[0].depends_on[0].condition: 'maybe' is not one of success,",
        ),
        (
            {"key": "a", "depends_on": [{"key": "b", "task_id": OUTSIDE_ID}]},
            "tasks[0].depends_on[0]: give key (a task of this workflow) or task_id",
        ),
        (
            {"key": "a", "depends_on": [{"condition": "failure"}]},
            "tasks[0].depends_on[0]: give key",
        ),
        (
            {"key": "a", "start_after": "2030-01-02T03:04:05"},
            "tasks[0].start_after: '2030-01-02T03:04:05' has no UTC offset",
        ),
        (
            {"key": "a", "start_after": "next tuesday"},
            "tasks[0].start_after: 'next tuesday' is not an RFC 3339 time",
        ),
    ],
)
def test_a_bad_task_field_is_named_with_its_path(
    task: dict[str, Any], expected: str
) -> None:
    assert refused({"name": "w", "tasks": [task]}).startswith(expected)


def test_a_yaml_date_without_time_or_a_naive_timestamp_is_refused() -> None:
    naive = yaml.safe_load(
        "name: w\ntasks: [{key: a, start_after: 2030-01-02T03:04:05}]"
    )
    date = yaml.safe_load("name: w\ntasks: [{key: a, start_after: 2030-01-02}]")

    assert refused(naive).startswith("tasks[0].start_after: '2030-01-02T03:04:05' has")
    assert refused(date).startswith("tasks[0].start_after: expected a time")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"tasks": []}, "name: is required."),
        ({"name": " ", "tasks": []}, "name: must not be empty."),
        ({"name": "w"}, "tasks: is required."),
        ({"name": "w", "tasks": {"a": {}}}, "tasks: expected a list, got a mapping."),
        ({"name": "w", "tasks": ["echo a"]}, "tasks[0]: expected a mapping"),
    ],
)
def test_a_bad_document_shape_is_named(document: dict[str, Any], expected: str) -> None:
    assert refused(document).startswith(expected)


def test_tasks_in_the_document_and_as_an_argument_are_refused() -> None:
    message = refused({"name": "w", "tasks": []}, tasks=[{"key": "a"}])

    assert message.startswith("tasks: give the tasks in the document")


# Dependencies and start_after of single tasks


def test_every_form_of_dependency_becomes_a_dependency_message() -> None:
    spec = task_spec(
        name="t",
        depends_on=[
            "id1",
            ("id2", "failure"),
            {"task_id": "id3", "condition": "completion"},
            {"task_id": "id4"},
            Dependency("id5", "failure"),
        ],
    )

    assert [(d.task_id, d.condition) for d in spec.depends_on] == [
        ("id1", SUCCESS),
        ("id2", FAILURE),
        ("id3", COMPLETION),
        ("id4", SUCCESS),
        ("id5", FAILURE),
    ]


@pytest.mark.parametrize(
    ("depends_on", "expected"),
    [
        ("id1", "depends_on: expected a list of dependencies, got the text 'id1'."),
        ([("id1", "often")], "depends_on[0].condition: 'often' is not one of"),
        ([{"task": "id1"}], "depends_on[0].task: unknown field; did you mean task_id?"),
        ([{"condition": "failure"}], "depends_on[0].task_id: is required."),
        ([("a", "b", "c")], "depends_on[0]: expected a task id, a (task_id, cond"),
        ([""], "depends_on[0].task_id: must not be empty."),
    ],
)
def test_a_bad_dependency_is_named(depends_on: Any, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        task_spec(name="t", depends_on=depends_on)

    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-02T03:04:05Z", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2030-01-02t03:04:05z", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (
            "2030-01-02T03:04:05.5+02:00",
            datetime(2030, 1, 2, 3, 4, 5, 500000, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_rfc3339_text_with_an_offset_is_read(text: str, expected: datetime) -> None:
    assert aware_time(text) == expected


def test_a_naive_start_after_is_refused_naming_start_after() -> None:
    with pytest.raises(ValidationError) as caught:
        task_spec(name="t", start_after=datetime(2030, 1, 2, 3, 4, 5))

    assert str(caught.value) == (
        "start_after: '2030-01-02T03:04:05' has no UTC offset; add one, "
        "e.g. Z for UTC or +02:00."
    )


def test_the_client_refuses_a_naive_start_after_before_any_request() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port: a request would be a ConnectionError.
    with TaskQueueClient(f"127.0.0.1:{port}", timeout=5) as client:
        with pytest.raises(ValidationError, match=r"^start_after: "):
            client.create_task("t", "true", start_after="2030-01-02T03:04:05")
        with pytest.raises(ValidationError, match=r"^tasks\[0\]\.comand: "):
            client.create_workflow({"name": "w", "tasks": [{"key": "a", "comand": ""}]})


def test_an_aware_start_after_is_sent_as_its_instant() -> None:
    local = datetime(2030, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))

    spec = task_spec(name="t", start_after=local)

    assert spec.start_after.ToDatetime(tzinfo=UTC) == datetime(
        2030, 1, 2, 3, 4, 5, tzinfo=UTC
    )


def test_update_replaces_or_clears_dependencies_and_start_after() -> None:
    untouched = task_update("t1", name="n")
    cleared = task_update("t1", depends_on=[], clear_start_after=True)
    replaced = task_update(
        "t1", depends_on=[("d1", "completion")], start_after="2030-01-01T00:00:00Z"
    )

    assert not untouched.update_depends_on
    assert not untouched.HasField("start_after")
    assert not untouched.clear_start_after
    assert cleared.update_depends_on
    assert list(cleared.depends_on) == []
    assert cleared.clear_start_after
    assert replaced.update_depends_on
    assert [(d.task_id, d.condition) for d in replaced.depends_on] == [
        ("d1", COMPLETION)
    ]
    assert replaced.start_after.seconds == 1893456000


def test_update_refuses_a_start_time_and_its_clearing_together() -> None:
    with pytest.raises(ValidationError, match=r"^start_after: give a time or clear"):
        task_update("t1", start_after="2030-01-01T00:00:00Z", clear_start_after=True)


# Records


def test_a_workflow_message_becomes_a_workflow_with_keyed_tasks_and_edges() -> None:
    message = workflows_pb2.Workflow(
        id="w1",
        name="build",
        status=workflows_pb2.WORKFLOW_STATUS_FAILED,
        progress=workflows_pb2.WorkflowProgress(total=2, completed=1, failed=1),
        tasks=[
            workflows_pb2.WorkflowTask(
                key="a",
                task=tasks_pb2.Task(
                    id="t1",
                    status=common_pb2.TASK_STATUS_COMPLETED,
                    workflow_id="w1",
                ),
            ),
            workflows_pb2.WorkflowTask(
                key="b",
                task=tasks_pb2.Task(
                    id="t2",
                    status=common_pb2.TASK_STATUS_WAITING_FOR_DEPENDENCIES,
                    blocked_by="waiting for dependency t1",
                ),
            ),
        ],
        edges=[
            workflows_pb2.WorkflowEdge(
                source_key="a", target_key="b", source_task_id="t1", target_task_id="t2"
            )
        ],
    )
    message.created_at.FromDatetime(datetime(2030, 1, 1, tzinfo=UTC))

    workflow = Workflow.from_proto(message)

    assert (workflow.status, workflow.finished, workflow.project_id) == (
        "failed",
        True,
        None,
    )
    assert workflow.progress.ended == 2
    assert workflow.created_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert [key for key, _ in workflow.tasks] == ["a", "b"]
    assert workflow.task("a").workflow_id == "w1"
    assert workflow.task("b").blocked_by == "waiting for dependency t1"
    assert workflow.task("b").workflow_id is None
    # An edge without a condition is a success edge, as on the server.
    assert workflow.edges[0].condition == "success"
    with pytest.raises(KeyError):
        workflow.task("c")


def test_a_missing_workflow_is_not_found_but_not_a_missing_task() -> None:
    cls = error_class(grpc.StatusCode.NOT_FOUND, "Workflow w1 not found.")

    assert issubclass(cls, NotFoundError)
    assert not issubclass(cls, TaskNotFoundError)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_retries": 2**40}, "max_retries"),
        ({"timeout_seconds": 1.5}, "timeout_seconds"),
        ({"timeout_seconds": True}, "timeout_seconds"),
        ({"retry_delay_seconds": "1"}, "retry_delay_seconds"),
    ],
)
def test_numbers_protobuf_would_refuse_name_their_field(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        task_spec(name="t", **fields)  # type: ignore[arg-type]

    assert str(caught.value).startswith(f"{field}:")
