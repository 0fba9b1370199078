"""The dashboard's reading of workflow documents (the CLI's format)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from taskqueue.models import WORKFLOW_FIELDS, WORKFLOW_TASK_FIELDS, workflow_create
from tq_grpc._gen import common_pb2, tasks_pb2
from tq_ui import workflow_document
from tq_ui.workflow_document import DocumentError, parse_workflow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workflow.yaml"


def test_the_example_reads_as_the_cli_reads_it() -> None:
    source = EXAMPLE.read_text()
    ours = parse_workflow(source)
    cli = workflow_create(yaml.safe_load(source))

    assert [t.key for t in ours.tasks] == [t.key for t in cli.tasks]
    for mine, theirs in zip(ours.tasks, cli.tasks, strict=True):
        assert list(mine.depends_on) == list(theirs.depends_on)
        assert mine.task.command == theirs.task.command
        assert mine.task.priority == theirs.task.priority
        assert mine.task.max_retries == theirs.task.max_retries
    assert (ours.name, ours.description) == (cli.name, cli.description)


def test_the_dashboard_knows_the_same_fields_as_the_cli() -> None:
    # tq_ui may not import the SDK (it sits above the adapters): the lists
    # are kept twice, and this keeps them equal.
    assert set(WORKFLOW_FIELDS) == workflow_document.WORKFLOW_FIELDS
    assert set(WORKFLOW_TASK_FIELDS) == workflow_document.TASK_FIELDS


def test_every_kind_of_edge_and_field_is_read() -> None:
    outside = "7d9e6a4e-0000-4000-8000-000000000001"
    request = parse_workflow(
        f"""
name: all
project_id: {outside}
tasks:
  - key: a
    command: "true"
    priority: critical
    env: {{A: "1"}}
    tags: [x, y]
    timeout_seconds: 30
    start_after: 2099-01-01T00:00:00Z
  - key: b
    depends_on:
      - a
      - {{key: a, condition: completion}}
      - {{task_id: {outside}, condition: failure}}
"""
    )

    a, b = request.tasks
    assert request.project_id == outside
    assert a.task.priority == common_pb2.PRIORITY_CRITICAL
    assert dict(a.task.env) == {"A": "1"}
    assert list(a.task.tags) == ["x", "y"]
    assert a.task.timeout_seconds == 30
    assert a.task.start_after.ToJsonString() == "2099-01-01T00:00:00Z"
    assert [(d.key, d.condition) for d in b.depends_on] == [
        ("a", tasks_pb2.DEPENDENCY_CONDITION_SUCCESS),
        ("a", tasks_pb2.DEPENDENCY_CONDITION_COMPLETION),
    ]
    assert [(d.task_id, d.condition) for d in b.task.depends_on] == [
        (outside, tasks_pb2.DEPENDENCY_CONDITION_FAILURE)
    ]
    assert b.task.name == "b"


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("name: x\ntasks:\n - key: a\n   comand: x", "tasks[0].comand"),
        ("name: x\ntasks:\n - key: a\n   priority: urgent", "tasks[0].priority"),
        (
            "name: x\ntasks:\n - key: a\n   depends_on: [{key: b, condition: maybe}]",
            "tasks[0].depends_on[0].condition",
        ),
        ("name: x\ntasks: []", "tasks"),
        ("name: x\ntasks:\n - key: a\n   timeout_seconds: soon", "timeoutSeconds"),
        ("[1", "not YAML or JSON"),
        ("just text", "expected a mapping"),
        ("name: x\nowner: me\ntasks: [{key: a}]", "owner"),
    ],
)
def test_a_bad_document_is_refused_naming_the_field(source: str, named: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_workflow(source)

    assert named in str(caught.value)


def test_aliases_are_refused_before_they_can_expand() -> None:
    # Eight levels of nine aliases each would expand to 9**8 nodes.
    lines = ["name: bomb", "x0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        lines.append(f"x{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    lines.append("tasks: [{key: a}]")
    started = time.monotonic()

    with pytest.raises(DocumentError) as caught:
        parse_workflow("\n".join(lines))

    assert "aliases" in str(caught.value)
    assert time.monotonic() - started < 1.0


def test_a_deeply_nested_or_oversized_document_is_refused() -> None:
    with pytest.raises(DocumentError) as deep:
        parse_workflow("name: w\ntasks: " + "[" * 5000 + "]" * 5000)
    with pytest.raises(DocumentError) as big:
        parse_workflow("name: w\n#" + "x" * (9 * 1024 * 1024))

    assert "nested too deeply" in str(deep.value)
    assert "characters" in str(big.value)


@pytest.mark.parametrize("edges", ["fetch", "{key: fetch}"])
def test_depends_on_must_be_a_list(edges: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_workflow(
            f"name: w\ntasks:\n  - key: fetch\n  - key: b\n    depends_on: {edges}\n"
        )

    assert str(caught.value) == "tasks[1].depends_on: expected a list."
