"""SchedulerActor: the ready queue, the concurrency limits and the pause.

Tasks wait in one heap ordered by priority, then creation sequence. A task
whose project is at its limit or on hold waits in that project's own heap
until the project frees up. A slot is held from dispatch until ``release``.
While the queue is paused nothing is dispatched.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from dataclasses import dataclass

from tq_actors.actor import Actor, Handle
from tq_actors.models import Priority

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """A queued task, ordered by priority (highest first), then FIFO."""

    rank: int
    seq: int
    task_id: str
    project_id: str

    @classmethod
    def of(cls, task_id: str, priority: Priority, seq: int, project_id: str) -> Entry:
        """Build the entry of a task."""
        return cls(-int(priority), seq, task_id, project_id)


@dataclass(frozen=True, slots=True)
class ProjectLimit:
    """What the scheduler knows of a project."""

    max_parallel: int = 0
    on_hold: bool = False


class SchedulerActor(Actor):
    """Decides which queued task runs next, and when."""

    def __init__(self, *, slots: int) -> None:
        super().__init__()
        self._slots = slots
        self._heap: list[Entry] = []
        self._queued: dict[str, Entry] = {}
        self._held: dict[str, list[Entry]] = {}
        self._running: dict[str, str] = {}
        self._project_running: Counter[str] = Counter()
        self._limits: dict[str, ProjectLimit] = {}
        self._paused = False
        self._after_release: dict[str, Entry] = {}
        self._tasks: Handle | None = None

    def bind(self, tasks: Handle) -> None:
        """Connect the task actor that receives dispatches."""
        self._tasks = tasks

    def enqueue(self, entries: list[Entry]) -> None:
        """Queue ready tasks and dispatch what the limits allow."""
        for entry in entries:
            self._queued[entry.task_id] = entry
            heapq.heappush(self._heap, entry)
        self._pump()

    def remove(self, task_id: str) -> None:
        """Take a task out of the queue; stale heap entries are skipped later."""
        self._queued.pop(task_id, None)

    def release(self, task_id: str) -> None:
        """Free the slot a dispatched task held."""
        project_id = self._running.pop(task_id, None)
        if project_id is None:
            return
        if project_id:
            self._project_running[project_id] -= 1
            self._unhold(project_id)
        waiting = self._after_release.pop(task_id, None)
        if waiting is not None:
            heapq.heappush(self._heap, waiting)
        self._pump()

    def set_project(self, project_id: str, limit: ProjectLimit) -> None:
        """Record a project's limit and hold; dispatch what it now allows."""
        self._limits[project_id] = limit
        self._unhold(project_id)
        self._pump()

    def forget_project(self, project_id: str) -> None:
        """Drop what is known of a deleted project."""
        self._limits.pop(project_id, None)
        for entry in self._held.pop(project_id, ()):
            heapq.heappush(self._heap, entry)
        self._pump()

    def set_paused(self, paused: bool) -> None:
        """Stop or restart dispatching."""
        self._paused = paused
        self._pump()

    def stats(self) -> tuple[int, int, int, bool]:
        """Return (queued, running, slots, paused)."""
        return len(self._queued), len(self._running), self._slots, self._paused

    def why(self, task_ids: list[str]) -> dict[str, str]:
        """Say, for each queued task, what keeps it from running now."""
        reasons: dict[str, str] = {}
        for task_id in task_ids:
            entry = self._queued.get(task_id)
            if entry is None:
                continue
            project_id = entry.project_id
            limit = self._limits.get(project_id) if project_id else None
            if self._paused:
                reasons[task_id] = "the queue is paused"
            elif limit is not None and limit.on_hold:
                reasons[task_id] = f"project {project_id} is on hold"
            elif limit is not None and self._blocked(project_id):
                reasons[task_id] = (
                    f"project {project_id} is at its limit of "
                    f"{limit.max_parallel} running task(s)"
                )
            elif len(self._running) >= self._slots:
                reasons[task_id] = f"all {self._slots} slots are busy"
        return reasons

    def _pump(self) -> None:
        while self._heap and len(self._running) < self._slots and not self._paused:
            entry = heapq.heappop(self._heap)
            if self._queued.get(entry.task_id) is not entry:
                continue
            if entry.task_id in self._running:
                # A new attempt queued before the last one's slot came back.
                self._after_release[entry.task_id] = entry
                continue
            if self._blocked(entry.project_id):
                heapq.heappush(self._held.setdefault(entry.project_id, []), entry)
                continue
            self._dispatch(entry)

    def _dispatch(self, entry: Entry) -> None:
        del self._queued[entry.task_id]
        self._running[entry.task_id] = entry.project_id
        if entry.project_id:
            self._project_running[entry.project_id] += 1
            self._unhold(entry.project_id)
        assert self._tasks is not None
        self._tasks.tell("dispatch", entry.task_id)

    def _blocked(self, project_id: str) -> bool:
        if not project_id:
            return False
        limit = self._limits.get(project_id)
        if limit is None:
            return False
        if limit.on_hold:
            return True
        running = self._project_running[project_id]
        return bool(limit.max_parallel) and running >= limit.max_parallel

    def _unhold(self, project_id: str) -> None:
        """Put a free project's best held task back in the main heap.

        Only one entry moves at a time: dispatching it moves the next, so a
        project with many held tasks costs O(log n) per release.
        """
        held = self._held.get(project_id)
        while held and not self._blocked(project_id):
            entry = heapq.heappop(held)
            if self._queued.get(entry.task_id) is entry:
                heapq.heappush(self._heap, entry)
                break
        if not held:
            self._held.pop(project_id, None)
