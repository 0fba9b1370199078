"""Deletes of one project racing each other."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pykka
import pytest

from tq_actors import (
    MemoryStore,
    ProjectNotFound,
    ProjectSpec,
    SystemConfig,
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
