"""Unit tests of the dependency graph's pure functions and workflow checks."""

from __future__ import annotations

import pytest

from tq_actors import validate
from tq_actors.errors import InvalidArgument
from tq_actors.graph import Edge, edge_state, find_cycle, workflow_status
from tq_actors.models import (
    Condition,
    Task,
    TaskSpec,
    TaskStatus,
    WorkflowSpec,
    WorkflowStatus,
    WorkflowTaskSpec,
    evolve,
)
from tq_actors.records import new_task
from tq_actors.tasks import backoff_seconds

S, F, C = Condition.SUCCESS, Condition.FAILURE, Condition.COMPLETION


@pytest.mark.parametrize(
    ("condition", "status", "expected"),
    [
        (S, TaskStatus.RUNNING, Edge.WAITING),
        (S, TaskStatus.COMPLETED, Edge.MET),
        (S, TaskStatus.FAILED, Edge.NEVER),
        (S, TaskStatus.CANCELLED, Edge.NEVER),
        (F, TaskStatus.FAILED, Edge.MET),
        (F, TaskStatus.COMPLETED, Edge.NEVER),
        (F, TaskStatus.CANCELLED, Edge.NEVER),
        (C, TaskStatus.CANCELLED, Edge.MET),
        (C, TaskStatus.FAILED, Edge.MET),
        (C, TaskStatus.WAITING_FOR_DEPENDENCIES, Edge.WAITING),
    ],
)
def test_edge_state(condition: Condition, status: TaskStatus, expected: Edge) -> None:
    assert edge_state(condition, status) is expected


def test_find_cycle_returns_the_path_in_dependency_order() -> None:
    graph = {"b": ["c"], "c": ["a"], "a": []}

    assert find_cycle("a", ["b"], lambda n: graph.get(n, [])) == ["a", "b", "c", "a"]
    assert find_cycle("a", ["a"], lambda n: []) == ["a", "a"]
    assert find_cycle("x", ["b"], lambda n: graph.get(n, [])) is None


def test_find_cycle_handles_a_deep_chain_without_recursion() -> None:
    depth = 50_000

    def depends_on(node: str) -> list[str]:
        n = int(node)
        return [str(n + 1)] if n < depth else ["0"]

    assert len(find_cycle("0", ["1"], depends_on) or []) == depth + 2


def _task(status: TaskStatus, reason: str = "", attempt: int = 0) -> Task:
    task = new_task(TaskSpec(name="t", command="true"), 1, 0.0)
    return evolve(task, status=status, status_reason=reason, attempt=attempt)


def test_workflow_status_is_derived_from_the_tasks() -> None:
    done = _task(TaskStatus.COMPLETED, attempt=1)
    pending = _task(TaskStatus.PENDING)
    skipped = _task(TaskStatus.CANCELLED, "dependency x failed")
    stopped = _task(TaskStatus.CANCELLED, "cancelled by request")

    assert workflow_status([pending])[0] is WorkflowStatus.PENDING
    assert workflow_status([done, pending])[0] is WorkflowStatus.RUNNING
    assert workflow_status([done, skipped])[0] is WorkflowStatus.COMPLETED
    assert workflow_status([done, stopped])[0] is WorkflowStatus.CANCELLED
    assert workflow_status([_task(TaskStatus.FAILED), stopped])[0] is (
        WorkflowStatus.FAILED
    )
    progress = workflow_status([done, skipped])[1]
    assert progress["total"] == 2 and progress["cancelled"] == 1


def _wf(*items: tuple[str, tuple[str, ...]]) -> WorkflowSpec:
    return WorkflowSpec(
        name="w",
        tasks=tuple(
            WorkflowTaskSpec(
                key, TaskSpec(name="", command="true"), tuple((a, S) for a in after)
            )
            for key, after in items
        ),
    )


def test_a_workflow_is_put_in_an_order_where_dependencies_come_first() -> None:
    spec, order = validate.workflow_spec(_wf(("c", ("b",)), ("b", ("a",)), ("a", ())))

    assert [spec.tasks[i].key for i in order] == ["a", "b", "c"]
    assert spec.tasks[0].spec.name == "c"


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ((("a", ("a",)),), "tasks"),
        ((("a", ("b",)), ("b", ("a",))), "tasks"),
        ((("a", ("z",)),), "tasks[0].depends_on[0].key"),
        ((("a", ()), ("a", ())), "tasks[1].key"),
        ((), "tasks"),
    ],
)
def test_bad_workflows_name_the_field(
    items: tuple[tuple[str, tuple[str, ...]], ...], field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate.workflow_spec(_wf(*items))

    assert caught.value.field == field


def test_backoff_doubles_with_bounded_jitter() -> None:
    for retry, base in [(1, 1.0), (2, 2.0), (3, 4.0)]:
        delay = backoff_seconds(1.0, retry)
        assert base <= delay <= base * 1.25
    assert backoff_seconds(0.0, 5) == 0.0
    assert backoff_seconds(10.0, 40) <= 3600 * 1.25
