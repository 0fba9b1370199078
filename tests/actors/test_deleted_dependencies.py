"""Dependents of tasks deleted with their project, through the system facade."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pykka
import pytest

from tq_actors import (
    Condition,
    Dependency,
    MemoryStore,
    ProjectSpec,
    ServerEvent,
    SystemConfig,
    TaskEvent,
    TaskQueueSystem,
    TaskSpec,
    TaskStatus,
)

Factory = Callable[[MemoryStore], TaskQueueSystem]
Step = tuple[TaskStatus | None, TaskStatus, str]

WAITING = TaskStatus.WAITING_FOR_DEPENDENCIES
CANCELLED = TaskStatus.CANCELLED


@pytest.fixture
def make_system(tmp_path: Path) -> Iterator[Factory]:
    def make(store: MemoryStore) -> TaskQueueSystem:
        config = SystemConfig(
            log_dir=tmp_path / "logs",
            slots=2,
            kill_grace_seconds=1.0,
            base_env={"PATH": "/usr/bin:/bin"},
        )
        return TaskQueueSystem(store, config)

    yield make
    pykka.ActorRegistry.stop_all()


class Heard:
    """The task events a system publishes, gathered from its bus."""

    def __init__(self, system: TaskQueueSystem) -> None:
        self._events: list[TaskEvent] = []
        self._lock = threading.Lock()
        system.subscribe(self._hear)

    def _hear(self, batch: Sequence[TaskEvent | ServerEvent]) -> None:
        with self._lock:
            self._events.extend(e for e in batch if isinstance(e, TaskEvent))

    def of(self, task_id: str) -> list[TaskEvent]:
        with self._lock:
            return [e for e in self._events if e.task_id == task_id]


def steps(events: Sequence[TaskEvent]) -> list[Step]:
    return [(e.from_status, e.to_status, e.reason) for e in events]


def wait_for(system: TaskQueueSystem, task_id: str, status: TaskStatus) -> None:
    deadline = time.monotonic() + 10
    while system.get_task(task_id).status is not status:
        assert time.monotonic() < deadline, system.get_task(task_id)
        time.sleep(0.01)


def wait_heard(heard: Heard, task_id: str, count: int) -> list[TaskEvent]:
    deadline = time.monotonic() + 5
    while len(heard.of(task_id)) < count:
        assert time.monotonic() < deadline, heard.of(task_id)
        time.sleep(0.01)
    return heard.of(task_id)


def test_a_dependent_cancelled_by_a_project_delete_keeps_it_in_its_history(
    make_system: Factory,
) -> None:
    store = MemoryStore()
    system = make_system(store)
    heard = Heard(system)
    project = system.create_project(ProjectSpec(name="p")).result()
    (doomed,) = system.create_tasks(
        [TaskSpec(name="doomed", project_id=project.id)]
    ).result()
    (outside,) = system.create_tasks(
        [TaskSpec(name="outside", depends_on=(Dependency(doomed.id),))]
    ).result()
    (below,) = system.create_tasks(
        [TaskSpec(name="below", depends_on=(Dependency(outside.id),))]
    ).result()

    assert system.delete_project(project.id, cascade=True) == 1

    deleted = f"dependency {doomed.id} was deleted"
    settled = system.get_task(outside.id)
    assert (settled.status, settled.status_reason) == (CANCELLED, deleted)
    assert steps(system.history(outside.id)) == [
        (None, WAITING, "created"),
        (WAITING, CANCELLED, deleted),
    ]
    assert system.history(outside.id) == wait_heard(heard, outside.id, 2)
    assert system.history(below.id)[-1].to_status is CANCELLED
    assert system.history(below.id) == wait_heard(heard, below.id, 2)
    kept = {t: system.history(t) for t in (outside.id, below.id)}
    pykka.ActorRegistry.stop_all()

    again = make_system(store)
    assert {t: again.history(t) for t in kept} == kept
    assert again.get_task(outside.id) == settled


def test_a_completion_dependent_of_a_running_task_deleted_with_its_project_never_runs(
    make_system: Factory,
) -> None:
    system = make_system(MemoryStore())
    heard = Heard(system)
    project = system.create_project(ProjectSpec(name="p")).result()
    (running,) = system.create_tasks(
        [TaskSpec(name="long", command="sleep 60", project_id=project.id)]
    ).result()
    edges = (
        Dependency(running.id, Condition.COMPLETION),
        Dependency(running.id, Condition.SUCCESS),
    )
    ended, succeeded = system.create_tasks(
        [
            TaskSpec(name=edge.condition.name, command="true", depends_on=(edge,))
            for edge in edges
        ]
    ).result()
    wait_for(system, running.id, TaskStatus.RUNNING)

    assert system.delete_project(project.id, cascade=True) == 1

    deleted = f"dependency {running.id} was deleted"
    for dependent in (ended, succeeded):
        expected = [(None, WAITING, "created"), (WAITING, CANCELLED, deleted)]
        assert steps(wait_heard(heard, dependent.id, 2)) == expected
        assert steps(system.history(dependent.id)) == expected
        assert system.get_task(dependent.id).started_at is None
