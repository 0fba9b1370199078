"""SchedulerActor: priority then FIFO, global slots, project limits."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pykka
import pytest

from tq_actors.actor import Actor, Handle
from tq_actors.models import Priority
from tq_actors.scheduler import Entry, ProjectLimit, SchedulerActor


class Recorder(Actor):
    """Stands in for the task actor: records every dispatch."""

    def __init__(self, seen: queue.Queue[str]) -> None:
        super().__init__()
        self._seen = seen

    def dispatch(self, task_id: str) -> None:
        self._seen.put(task_id)


@pytest.fixture
def dispatched() -> queue.Queue[str]:
    return queue.Queue()


@pytest.fixture
def scheduler(dispatched: queue.Queue[str]) -> Iterator[Handle]:
    recorder = Handle(Recorder.start(dispatched))
    handle = Handle(SchedulerActor.start(slots=1))
    handle.tell("bind", recorder)
    yield handle
    pykka.ActorRegistry.stop_all()


def take(seen: queue.Queue[str], count: int) -> list[str]:
    return [seen.get(timeout=5) for _ in range(count)]


def nothing_more(seen: queue.Queue[str]) -> bool:
    try:
        seen.get(timeout=0.2)
    except queue.Empty:
        return True
    return False


def test_queued_tasks_start_by_priority_then_in_creation_order(
    scheduler: Handle, dispatched: queue.Queue[str]
) -> None:
    scheduler.tell("enqueue", [Entry.of("blocker", Priority.LOW, 0, "")])
    assert take(dispatched, 1) == ["blocker"]
    scheduler.tell(
        "enqueue",
        [
            Entry.of("low", Priority.LOW, 1, ""),
            Entry.of("normal-1", Priority.NORMAL, 2, ""),
            Entry.of("critical", Priority.CRITICAL, 3, ""),
            Entry.of("high", Priority.HIGH, 4, ""),
            Entry.of("normal-2", Priority.NORMAL, 5, ""),
        ],
    )
    order = []
    for running in ["blocker", "critical", "high", "normal-1", "normal-2"]:
        scheduler.tell("release", running)
        order += take(dispatched, 1)
    assert order == ["critical", "high", "normal-1", "normal-2", "low"]


def test_a_removed_task_is_never_dispatched(
    scheduler: Handle, dispatched: queue.Queue[str]
) -> None:
    scheduler.tell("enqueue", [Entry.of("blocker", Priority.NORMAL, 0, "")])
    scheduler.tell("enqueue", [Entry.of("gone", Priority.HIGH, 1, "")])
    scheduler.tell("remove", "gone")
    assert take(dispatched, 1) == ["blocker"]
    scheduler.tell("release", "blocker")
    assert nothing_more(dispatched)
    assert scheduler.ask("stats").result() == (0, 0, 1, False)


def test_a_project_at_its_limit_lets_other_tasks_pass(
    dispatched: queue.Queue[str],
) -> None:
    recorder = Handle(Recorder.start(dispatched))
    scheduler = Handle(SchedulerActor.start(slots=3))
    scheduler.tell("bind", recorder)
    try:
        scheduler.tell("set_project", "p", ProjectLimit(max_parallel=1))
        scheduler.tell(
            "enqueue",
            [
                Entry.of("p1", Priority.HIGH, 1, "p"),
                Entry.of("p2", Priority.HIGH, 2, "p"),
                Entry.of("free", Priority.LOW, 3, ""),
            ],
        )
        assert sorted(take(dispatched, 2)) == ["free", "p1"]
        assert nothing_more(dispatched)
        scheduler.tell("release", "p1")
        assert take(dispatched, 1) == ["p2"]
    finally:
        pykka.ActorRegistry.stop_all()


def test_a_project_on_hold_dispatches_nothing_until_resumed(
    scheduler: Handle, dispatched: queue.Queue[str]
) -> None:
    scheduler.tell("set_project", "p", ProjectLimit(on_hold=True))
    scheduler.tell("enqueue", [Entry.of("held", Priority.NORMAL, 1, "p")])
    assert nothing_more(dispatched)
    scheduler.tell("set_project", "p", ProjectLimit(on_hold=False))
    assert take(dispatched, 1) == ["held"]
