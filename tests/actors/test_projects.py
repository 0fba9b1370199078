"""ProjectActor through the system facade, on the in-memory store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pykka
import pytest

from tq_actors import (
    FailedPrecondition,
    InvalidArgument,
    MemoryStore,
    ProjectChanges,
    ProjectSpec,
    ServerEvent,
    SystemConfig,
    TaskEvent,
    TaskQueueSystem,
    TaskSpec,
    TaskStatus,
)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[TaskQueueSystem]:
    yield TaskQueueSystem(MemoryStore(), SystemConfig(log_dir=tmp_path, slots=1))
    pykka.ActorRegistry.stop_all()


def test_a_project_gets_the_default_threshold_and_reviews(
    system: TaskQueueSystem,
) -> None:
    project = system.create_project(ProjectSpec(name=" Web ")).result()

    assert (project.name, project.coverage_threshold, project.required_reviews) == (
        "Web",
        90.0,
        3,
    )
    assert system.get_project(project.id) == project


def test_a_project_cannot_be_nested_inside_itself(system: TaskQueueSystem) -> None:
    top = system.create_project(ProjectSpec(name="top")).result()
    child = system.create_project(ProjectSpec(name="c", parent_id=top.id)).result()

    with pytest.raises(InvalidArgument, match="parent_id"):
        system.update_project(top.id, ProjectChanges(parent_id=child.id)).result()


def test_a_project_with_tasks_is_deleted_only_with_cascade(
    system: TaskQueueSystem,
) -> None:
    project = system.create_project(ProjectSpec(name="p")).result()
    system.create_tasks([TaskSpec(name="t", project_id=project.id)]).result()

    with pytest.raises(FailedPrecondition):
        system.delete_project(project.id, cascade=False)
    assert system.delete_project(project.id, cascade=True) == 1
    assert system.list_projects() == ([], "")


def test_a_cascading_delete_cancels_a_running_task_before_deleting_it(
    tmp_path: Path,
) -> None:
    config = SystemConfig(
        log_dir=tmp_path / "logs",
        slots=1,
        kill_grace_seconds=1.0,
        base_env={"PATH": "/usr/bin:/bin"},
    )
    system = TaskQueueSystem(MemoryStore(), config)
    heard: list[TaskEvent] = []
    lock = threading.Lock()

    def hear(batch: Sequence[TaskEvent | ServerEvent]) -> None:
        with lock:
            heard.extend(e for e in batch if isinstance(e, TaskEvent))

    system.subscribe(hear)
    project = system.create_project(ProjectSpec(name="p")).result()
    long, noted = system.create_tasks(
        [
            TaskSpec(name="long", command="sleep 60", project_id=project.id),
            TaskSpec(name="noted", project_id=project.id),
        ]
    ).result()
    deadline = time.monotonic() + 10
    while system.get_task(long.id).status is not TaskStatus.RUNNING:
        assert time.monotonic() < deadline, system.get_task(long.id)
        time.sleep(0.01)

    assert system.delete_project(project.id, cascade=True) == 2
    deadline = time.monotonic() + 5
    while not any(e.deleted and e.task_id == long.id for e in list(heard)):
        assert time.monotonic() < deadline, heard
        time.sleep(0.01)

    with lock:
        steps = {
            task_id: [
                (e.from_status, e.to_status, e.reason, e.deleted)
                for e in heard
                if e.task_id == task_id
            ]
            for task_id in (long.id, noted.id)
        }
    cancelled = TaskStatus.CANCELLED
    assert steps[long.id] == [
        (None, TaskStatus.PENDING, "created", False),
        (TaskStatus.PENDING, TaskStatus.RUNNING, "started", False),
        (TaskStatus.RUNNING, cancelled, "deleted with its project", False),
        (cancelled, cancelled, "deleted", True),
    ]
    assert steps[noted.id] == [
        (None, TaskStatus.PENDING, "created", False),
        (TaskStatus.PENDING, TaskStatus.PENDING, "deleted", True),
    ]
    assert sum(m.cancelled for m in system.activity().minutes) == 1
    assert system.list_projects() == ([], "")
