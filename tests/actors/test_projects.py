"""ProjectActor through the system facade, on the in-memory store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pykka
import pytest

from tq_actors import (
    FailedPrecondition,
    InvalidArgument,
    MemoryStore,
    ProjectChanges,
    ProjectSpec,
    SystemConfig,
    TaskQueueSystem,
    TaskSpec,
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
