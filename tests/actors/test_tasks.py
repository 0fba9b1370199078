"""TaskActor through the system facade, on the in-memory store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pykka
import pytest

from tq_actors import (
    AlreadyExists,
    IllegalTransition,
    InvalidArgument,
    MemoryStore,
    SystemConfig,
    TaskNotFound,
    TaskQueueSystem,
    TaskSpec,
    TaskStatus,
)

Factory = Callable[..., TaskQueueSystem]


@pytest.fixture
def make_system(tmp_path: Path) -> Iterator[Factory]:
    started: list[TaskQueueSystem] = []

    def make(store: MemoryStore | None = None, slots: int = 2) -> TaskQueueSystem:
        config = SystemConfig(
            log_dir=tmp_path / "logs",
            slots=slots,
            kill_grace_seconds=1.0,
            base_env={"PATH": "/usr/bin:/bin"},
        )
        system = TaskQueueSystem(store or MemoryStore(), config)
        started.append(system)
        return system

    yield make
    pykka.ActorRegistry.stop_all()


def wait_for(system: TaskQueueSystem, task_id: str, status: TaskStatus) -> None:
    deadline = time.monotonic() + 10
    while system.get_task(task_id).status is not status:
        assert time.monotonic() < deadline, system.get_task(task_id)
        time.sleep(0.01)


def test_a_command_runs_and_its_output_and_exit_code_are_kept(
    make_system: Factory,
) -> None:
    system = make_system()
    task = system.create_tasks([TaskSpec(name="hi", command="echo hi; exit 4")])
    task_id = task.result()[0].id
    wait_for(system, task_id, TaskStatus.FAILED)
    settled = system.get_task(task_id)
    assert (settled.exit_code, settled.status_reason) == (4, "exit code 4")
    assert system.read_log(task_id, 0, 0).data == b"hi\n"
    history = [e.to_status for e in system.history(task_id)]
    assert history == [TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.FAILED]


def test_a_pending_task_is_cancelled_without_running(make_system: Factory) -> None:
    system = make_system(slots=1)
    blocker, queued = system.create_tasks(
        [TaskSpec(name="b", command="sleep 5"), TaskSpec(name="q", command="true")]
    ).result()
    cancelled = system.cancel_task(queued.id, "not needed").result()
    assert (cancelled.status, cancelled.status_reason) == (
        TaskStatus.CANCELLED,
        "not needed",
    )
    assert cancelled.started_at is None
    system.cancel_task(blocker.id, "").result(timeout=10)
    with pytest.raises(IllegalTransition):
        system.cancel_task(queued.id, "again").result()


def test_a_task_running_at_start_up_is_failed_as_interrupted(
    make_system: Factory,
) -> None:
    store = MemoryStore()
    first = make_system(store)
    task = first.create_tasks([TaskSpec(name="long", command="sleep 5")]).result()[0]
    wait_for(first, task.id, TaskStatus.RUNNING)
    pykka.ActorRegistry.stop_all()

    second = make_system(store)
    recovered = second.get_task(task.id)
    assert (recovered.status, recovered.status_reason) == (
        TaskStatus.FAILED,
        "interrupted",
    )


def test_bad_input_is_refused_naming_the_field(make_system: Factory) -> None:
    system = make_system()
    with pytest.raises(InvalidArgument, match=r"^name:"):
        system.create_tasks([TaskSpec(name="  ", command="true")])
    with pytest.raises(InvalidArgument, match=r"^id:"):
        system.get_task("42")
    with pytest.raises(TaskNotFound):
        system.get_task("3f2504e0-4f89-11d3-9a0c-0305e82c3301")


def test_the_same_idempotency_key_returns_the_first_task(make_system: Factory) -> None:
    system = make_system()
    spec = TaskSpec(name="once", command="true", idempotency_key="k-1")
    first = system.create_tasks([spec]).result()[0]
    second = system.create_tasks([spec]).result()[0]
    assert first.id == second.id


def test_an_idempotency_key_reused_for_another_task_is_refused(
    make_system: Factory,
) -> None:
    system = make_system()
    system.create_tasks([TaskSpec(name="a", idempotency_key="k-2")]).result()

    with pytest.raises(AlreadyExists, match="k-2"):
        system.create_tasks([TaskSpec(name="b", idempotency_key="k-2")]).result()
    with pytest.raises(AlreadyExists, match="twice"):
        system.create_tasks(
            [
                TaskSpec(name="c", idempotency_key="k-3"),
                TaskSpec(name="d", idempotency_key="k-3"),
            ]
        ).result()
    assert system.stats().tasks_by_status["pending"] == 1
