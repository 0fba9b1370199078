"""Deletes of one project racing each other."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pykka
import pytest

from tq_actors import (
    FailedPrecondition,
    MemoryStore,
    ProjectChanges,
    ProjectNotFound,
    ProjectSpec,
    SystemConfig,
    Task,
    TaskQueueSystem,
    TaskSpec,
    TaskStatus,
)

RACERS = 4


@pytest.fixture
def system(tmp_path: Path) -> Iterator[TaskQueueSystem]:
    config = SystemConfig(
        log_dir=tmp_path / "logs",
        slots=2,
        kill_grace_seconds=1.0,
        base_env={"PATH": "/usr/bin:/bin"},
    )
    yield TaskQueueSystem(MemoryStore(), config)
    pykka.ActorRegistry.stop_all()


def test_racing_cascading_deletes_answer_once_with_every_task(
    system: TaskQueueSystem,
) -> None:
    project = system.create_project(ProjectSpec(name="raced")).result()
    tasks = system.create_tasks(
        [
            TaskSpec(name="runs", command="sleep 60", project_id=project.id),
            TaskSpec(
                name="ignores-term",
                command="trap '' TERM; sleep 60",
                project_id=project.id,
            ),
            TaskSpec(name="noted", project_id=project.id),
            TaskSpec(
                name="later",
                command="true",
                project_id=project.id,
                start_after=time.time() + 3600,
            ),
        ]
    ).result()
    deadline = time.monotonic() + 10
    while any(
        system.get_task(t.id).status is not TaskStatus.RUNNING for t in tasks[:2]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.01)

    def delete() -> int | str:
        try:
            return system.delete_project(project.id, cascade=True)
        except ProjectNotFound:
            return "not found"

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(lambda _: delete(), range(RACERS)))

    assert sorted(answers, key=str) == [4] + ["not found"] * (RACERS - 1)
    assert system.list_projects() == ([], "")


def _run_stubborn(system: TaskQueueSystem, project_id: str) -> Task:
    """Start a task in the project that ignores SIGTERM; return it running."""
    stubborn = TaskSpec(
        name="stubborn", command="trap '' TERM; sleep 60", project_id=project_id
    )
    (task,) = system.create_tasks([stubborn]).result()
    deadline = time.monotonic() + 10
    while system.get_task(task.id).status is not TaskStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return task


def test_no_task_is_created_in_a_project_while_its_tasks_are_deleted(
    system: TaskQueueSystem,
) -> None:
    project = system.create_project(ProjectSpec(name="closing")).result()
    task = _run_stubborn(system, project.id)
    deadline = time.monotonic() + 10
    late = TaskSpec(name="late", command="sleep 60", project_id=project.id)

    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(system.delete_project, project.id, cascade=True)
        created = 0
        with pytest.raises(FailedPrecondition, match="is being deleted"):
            while time.monotonic() < deadline:
                system.create_tasks([late]).result()
                created += 1
        with pytest.raises(FailedPrecondition, match="is being deleted"):
            system.retry_task(task.id).result()
        removed = deleting.result(timeout=30)

    assert removed == 1 + created
    assert system.list_projects() == ([], "")
    with pytest.raises(ProjectNotFound):
        system.create_tasks([late]).result()


def test_a_cascade_refused_for_child_projects_deletes_no_task(
    system: TaskQueueSystem,
) -> None:
    parent = system.create_project(ProjectSpec(name="parent")).result()
    system.create_project(ProjectSpec(name="child", parent_id=parent.id)).result()
    (task,) = system.create_tasks(
        [TaskSpec(name="runs", command="sleep 60", project_id=parent.id)]
    ).result()

    with pytest.raises(FailedPrecondition, match="child project"):
        system.delete_project(parent.id, cascade=True)

    assert system.get_task(task.id).status in (TaskStatus.PENDING, TaskStatus.RUNNING)
    assert system.create_tasks([TaskSpec(name="more", project_id=parent.id)]).result()


def test_no_project_goes_under_a_project_while_its_tasks_are_deleted(
    system: TaskQueueSystem,
) -> None:
    project = system.create_project(ProjectSpec(name="closing")).result()
    other = system.create_project(ProjectSpec(name="other")).result()
    _run_stubborn(system, project.id)
    deadline = time.monotonic() + 10
    child = ProjectSpec(name="child", parent_id=project.id)
    moved = ProjectChanges(parent_id=project.id)

    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(system.delete_project, project.id, cascade=True)
        with pytest.raises(FailedPrecondition, match="is being deleted"):
            while time.monotonic() < deadline:
                system.create_tasks(
                    [TaskSpec(name="t", project_id=project.id)]
                ).result()
        with pytest.raises(FailedPrecondition, match="is being deleted"):
            system.create_project(child).result()
        with pytest.raises(FailedPrecondition, match="is being deleted"):
            system.update_project(other.id, moved).result()
        removed = deleting.result(timeout=30)

    assert removed >= 1
    assert [p.name for p in system.list_projects()[0]] == ["other"]
