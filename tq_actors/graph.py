"""Pure functions on the dependency graph: conditions, cycles, workflow status."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from tq_actors.models import (
    Condition,
    Dependency,
    Task,
    TaskStatus,
    WorkflowStatus,
)

# A task cancelled because a dependency condition can never hold carries a
# reason starting with this; a workflow does not count it as cancelled.
UNMET_PREFIX = "dependency "


class Edge(enum.Enum):
    """Where one dependency edge stands."""

    MET = "met"
    WAITING = "waiting"
    NEVER = "never"


def edge_state(condition: Condition, status: TaskStatus) -> Edge:
    """Return whether a dependency in status satisfies condition."""
    if not status.terminal:
        return Edge.WAITING
    if condition is Condition.COMPLETION:
        return Edge.MET
    if condition is Condition.SUCCESS:
        return Edge.MET if status is TaskStatus.COMPLETED else Edge.NEVER
    return Edge.MET if status is TaskStatus.FAILED else Edge.NEVER


def unmet_reason(dependency: Task, condition: Condition) -> str:
    """Reason given to a dependent whose condition on dependency can never hold."""
    return (
        f"{UNMET_PREFIX}{dependency.id} ({dependency.name}) "
        f"{dependency.status.label}; its {condition.name.lower()} "
        "condition can never hold"
    )


class Named(Protocol):
    """A task or its outline, as a reason naming it reads it."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> TaskStatus: ...


class Dependent(Protocol):
    """A task or its outline, as the edges it waits on."""

    @property
    def id(self) -> str: ...
    @property
    def depends_on(self) -> tuple[Dependency, ...]: ...


def waiting_reason(dependency: Named, condition: Condition) -> str:
    """Reason given while a dependent waits on dependency."""
    wanted = {
        Condition.SUCCESS: "to complete",
        Condition.FAILURE: "to fail",
        Condition.COMPLETION: "to end",
    }[condition]
    return (
        f"waiting for dependency {dependency.id} ({dependency.name}) "
        f"{wanted}; it is {dependency.status.label}"
    )


def find_cycle(
    start: str, targets: Iterable[str], depends_on: Callable[[str], Iterable[str]]
) -> list[str] | None:
    """Return a path start -> ... -> start if start would depend on targets.

    ``depends_on(id)`` gives the ids a task depends on now. Iterative DFS,
    so deep chains cannot exhaust the stack.
    """
    parent: dict[str, str] = {}
    stack = [(start, t) for t in targets]
    seen: set[str] = set()
    while stack:
        came_from, node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        parent[node] = came_from
        if node == start:
            path = [start]
            step = came_from
            while step != start:
                path.append(step)
                step = parent[step]
            path.append(start)
            return path[::-1]
        stack.extend((node, nxt) for nxt in depends_on(node))
    return None


class _Brief(Protocol):
    @property
    def status(self) -> TaskStatus: ...
    @property
    def attempt(self) -> int: ...
    @property
    def status_reason(self) -> str: ...


def workflow_status(tasks: Sequence[_Brief]) -> tuple[WorkflowStatus, dict[str, int]]:
    """Derive a workflow's status and per-status counts from its tasks."""
    counts = Counter(t.status for t in tasks)
    progress = {"total": len(tasks)}
    progress.update({s.label: counts[s] for s in TaskStatus})
    live = sum(counts[s] for s in TaskStatus if not s.terminal)
    if live:
        started = counts[TaskStatus.RUNNING] or any(
            t.attempt or t.status.terminal for t in tasks
        )
        return (WorkflowStatus.RUNNING if started else WorkflowStatus.PENDING), progress
    if counts[TaskStatus.FAILED]:
        return WorkflowStatus.FAILED, progress
    if any(
        t.status is TaskStatus.CANCELLED
        and not t.status_reason.startswith(UNMET_PREFIX)
        for t in tasks
    ):
        return WorkflowStatus.CANCELLED, progress
    return WorkflowStatus.COMPLETED, progress


def workflow_edges(
    tasks: Sequence[tuple[str, Dependent]],
) -> list[tuple[str, str, str, str, Condition]]:
    """Edges between a workflow's tasks as (source key, target key, source id,
    target id, condition); the source must end before the target starts."""
    key_of = {task.id: key for key, task in tasks}
    return [
        (key_of[d.task_id], key, d.task_id, task.id, d.condition)
        for key, task in tasks
        for d in task.depends_on
        if d.task_id in key_of
    ]


def cycle_text(path: Sequence[str], *, limit: int = 12) -> str:
    """A cycle as "a -> b -> a", shortened in the middle when long."""
    if len(path) > limit:
        hidden = len(path) - limit + 2
        path = [*path[: limit - 3], f"… {hidden} more …", *path[-2:]]
    return " -> ".join(path)
