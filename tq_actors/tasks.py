"""TaskActor: owns task records and their history.

Every change becomes one list of store operations (record, indexes, history
events) committed atomically; callers hear of it only once it is durable
(see ``Durable``), and the event bus publishes it at the same moment.
Non-terminal tasks are kept in memory; reads of settled records go to the
store, outside this actor.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future

from tq_actors import defaults
from tq_actors.actor import Actor, Durable, Handle
from tq_actors.errors import (
    AlreadyExists,
    IllegalTransition,
    ProjectNotFound,
    TaskNotFound,
)
from tq_actors.logs import LogFiles
from tq_actors.models import (
    Task,
    TaskChanges,
    TaskEvent,
    TaskSpec,
    TaskStatus,
    Totals,
    evolve,
)
from tq_actors.records import index_ops, new_task, same_request
from tq_actors.runner import RunRequest
from tq_actors.scheduler import Entry
from tq_actors.store import Op, Store
from tq_actors.store import keys as k
from tq_actors.store.codec import decode_task, encode_event

logger = logging.getLogger(__name__)

_RECENT_LIMIT = 10_000
_SCAN_CHUNK = 10_000


class TaskActor(Actor):
    """Creates, changes and settles tasks; the only writer of task records."""

    def __init__(self, *, store: Store, logs: LogFiles) -> None:
        super().__init__()
        self._store = store
        self._logs = logs
        self._live: dict[str, Task] = {}
        self._recent: OrderedDict[str, tuple[Task | None, Future[None]]] = OrderedDict()
        self._dispatched: set[str] = set()
        self._cancels: dict[str, tuple[str, list[Future[Task]]]] = {}
        self._idempotency: dict[str, str] = {}
        self._counts: Counter[TaskStatus] = Counter()
        self._created_total = 0
        self._finished_total: Counter[TaskStatus] = Counter()
        self._durations = [0] * (len(defaults.TASK_DURATION_BOUNDS_SECONDS) + 1)
        self._duration_sum = 0.0
        self._task_seq = 0
        self._event_seq = 0
        self._scheduler: Handle | None = None
        self._runner: Handle | None = None
        self._bus: Handle | None = None

    def bind(self, scheduler: Handle, runner: Handle, bus: Handle) -> None:
        """Connect the actors this one tells about changes."""
        self._scheduler, self._runner, self._bus = scheduler, runner, bus

    # -- start-up -------------------------------------------------------

    def recover(self) -> Durable:
        """Load unfinished tasks; fail those found running; queue the rest.

        Returns the number of tasks marked ``interrupted``.
        """
        last = self._store.last_key("idx_created")
        self._task_seq = k.read_u64(last) if last else 0
        raw_seq = self._store.get("meta", b"event_seq")
        self._event_seq = k.read_u64(raw_seq) if raw_seq else 0
        for status in TaskStatus:
            self._counts[status] = self._count_status(status)

        ready: list[Task] = []
        interrupted: list[Task] = []
        ops: list[Op] = []
        events: list[TaskEvent] = []
        now = time.time()
        for status in (TaskStatus.PENDING, TaskStatus.RUNNING):
            for task in self._load_status(status):
                if status is TaskStatus.RUNNING:
                    failed = self._transition(
                        task,
                        TaskStatus.FAILED,
                        "interrupted",
                        now,
                        ops,
                        events,
                        finished_at=now,
                    )
                    logger.warning("Task %r: was running at start-up; failed", task.id)
                    self._settle(failed)
                    interrupted.append(task)
                else:
                    self._live[task.id] = task
                    ready.append(task)
        orphans = [(t.id, t.pid, t.started_at or 0.0) for t in interrupted]
        ticket = self._commit(ops, events)
        self._queue(ready)
        assert self._runner is not None
        self._runner.tell("end_orphans", orphans)
        return Durable(len(events), ticket)

    # -- requests -------------------------------------------------------

    def create(self, specs: Sequence[TaskSpec]) -> Durable:
        """Store new tasks in one atomic write and queue them once durable."""
        self._check_projects(spec.project_id for spec in specs)
        self._check_idempotency(specs)
        now = time.time()
        ops: list[Op] = []
        events: list[TaskEvent] = []
        created: list[Task] = []
        fresh: list[Task] = []
        for spec in specs:
            existing = self._idempotent(spec.idempotency_key)
            if existing is not None:
                created.append(existing)
                continue
            self._task_seq += 1
            task = new_task(spec, self._task_seq, now)
            self._live[task.id] = task
            self._counts[task.status] += 1
            if task.idempotency_key:
                self._idempotency[task.idempotency_key] = task.id
                ops.append(("idx_idem", task.idempotency_key.encode(), k.uid(task.id)))
            ops.extend(index_ops(None, task))
            events.append(self._event(task, None, "created", now))
            created.append(task)
            fresh.append(task)
        self._created_total += len(fresh)
        ticket = self._commit(ops, events)
        ticket.add_done_callback(lambda _: self._queue(fresh))
        logger.debug("Tasks: created %d", len(fresh))
        return Durable(created, ticket)

    def update(self, task_id: str, changes: TaskChanges) -> Durable:
        """Change a pending task that has not been dispatched."""
        task = self._require_live(task_id)
        if task.status is not TaskStatus.PENDING or task_id in self._dispatched:
            raise IllegalTransition(
                task_id,
                task.status.label,
                "update it",
                "Only pending tasks can be updated; cancel and retry it instead.",
            )
        values = {
            name: value
            for name, value in dataclasses.asdict(changes).items()
            if value is not None
        }
        if "tags" in values:
            values["tags"] = tuple(values["tags"])
        updated = evolve(task, **values, updated_at=time.time())
        ops = index_ops(task, updated)
        self._live[task_id] = updated
        ticket = self._commit(ops, [])
        if updated.priority != task.priority or updated.command != task.command:
            self._requeue(updated)
        return Durable(updated, ticket)

    def cancel(self, task_id: str, reason: str) -> Durable | Future[Task]:
        """Cancel a pending task at once, or end a running one's process group."""
        task = self._lookup(task_id)
        if task.status.terminal:
            raise IllegalTransition(
                task_id,
                task.status.label,
                "cancel it",
                "Retry it to run it again.",
            )
        reason = reason or "cancelled by request"
        if task.status is TaskStatus.RUNNING or task_id in self._dispatched:
            return self._cancel_running(task, reason)
        assert self._scheduler is not None
        self._scheduler.tell("remove", task_id)
        now = time.time()
        ops: list[Op] = []
        events: list[TaskEvent] = []
        cancelled = self._transition(
            task, TaskStatus.CANCELLED, reason, now, ops, events, finished_at=now
        )
        self._settle(cancelled)
        ticket = self._commit(ops, events)
        self._remember(cancelled, ticket)
        logger.info("Task %r: cancelled while pending", task_id)
        return Durable(cancelled, ticket)

    def retry(self, task_id: str) -> Durable:
        """Queue a settled task again as a new attempt."""
        task = self._lookup(task_id)
        if not task.status.terminal:
            raise IllegalTransition(
                task_id,
                task.status.label,
                "retry it",
                "Only completed, failed or cancelled tasks can be retried.",
            )
        now = time.time()
        ops: list[Op] = []
        events: list[TaskEvent] = []
        queued = self._transition(
            task,
            TaskStatus.PENDING,
            "retry requested",
            now,
            ops,
            events,
            exit_code=None,
            finished_at=None,
            started_at=None,
            pid=0,
        )
        self._live[task_id] = queued
        self._recent.pop(task_id, None)
        ticket = self._commit(ops, events)
        ticket.add_done_callback(lambda _: self._queue([queued]))
        logger.info("Task %r: retry requested", task_id)
        return Durable(queued, ticket)

    def delete(self, task_id: str) -> Durable:
        """Delete a task that is not running, with its history and log."""
        task = self._lookup(task_id)
        if task.status is TaskStatus.RUNNING or task_id in self._dispatched:
            raise IllegalTransition(
                task_id, task.status.label, "delete it", "Cancel it first."
            )
        ticket = self._delete([task])
        return Durable(task_id, ticket)

    def delete_project_tasks(self, project_id: str) -> Durable:
        """Delete every task of a project, ending the runs that are still going."""
        tasks = [
            self._lookup(task_id) for task_id in self._project_task_ids(project_id)
        ]
        assert self._runner is not None
        for task in tasks:
            if task.status is TaskStatus.RUNNING or task.id in self._dispatched:
                self._runner.tell("kill", task.id, "deleted with its project")
        ticket = self._delete(tasks)
        return Durable(len(tasks), ticket)

    def totals(self) -> Totals:
        """Return tasks per status and the counters since start-up."""
        return Totals(
            tasks_by_status={s.label: self._counts[s] for s in TaskStatus},
            created=self._created_total,
            finished={
                s.label: self._finished_total[s] for s in TaskStatus if s.terminal
            },
            duration_bounds=defaults.TASK_DURATION_BOUNDS_SECONDS,
            duration_counts=tuple(self._durations),
            duration_sum_seconds=self._duration_sum,
        )

    # -- messages from the scheduler and the runner -----------------------

    def dispatch(self, task_id: str) -> None:
        """Hand a queued task to the runner, unless it changed meanwhile."""
        task = self._live.get(task_id)
        assert self._runner is not None
        if task is None or task.status is not TaskStatus.PENDING:
            assert self._scheduler is not None
            self._scheduler.tell("release", task_id)
            return
        self._dispatched.add(task_id)
        self._runner.tell(
            "run",
            RunRequest(
                task_id=task.id,
                command=task.command,
                working_dir=task.working_dir,
                env=task.env,
                timeout_seconds=task.timeout_seconds,
                attempt=task.attempt + 1,
            ),
        )

    def on_started(self, task_id: str, pid: int, started_at: float) -> None:
        """Record that a dispatched task's process is running."""
        task = self._live.get(task_id)
        if task is None or task.status is not TaskStatus.PENDING:
            return
        ops: list[Op] = []
        events: list[TaskEvent] = []
        running = self._transition(
            task,
            TaskStatus.RUNNING,
            "started",
            started_at,
            ops,
            events,
            attempt=task.attempt + 1,
            started_at=started_at,
            pid=pid,
        )
        self._live[task_id] = running
        self._commit(ops, events, urgent=False)

    def on_exit(self, task_id: str, exit_code: int, kill_reason: str) -> None:
        """Settle a task whose run has ended."""
        self._dispatched.discard(task_id)
        task = self._live.get(task_id)
        if task is None:
            return
        cancel = self._cancels.pop(task_id, None)
        if cancel is not None and kill_reason != "cancel":
            self._refuse_cancel(task_id, cancel, kill_reason)
            cancel = None
        if cancel is not None:
            status, reason = TaskStatus.CANCELLED, cancel[0]
        elif kill_reason == "timeout":
            status, reason = TaskStatus.FAILED, "timeout"
        elif exit_code == 0:
            status, reason = TaskStatus.COMPLETED, "exit code 0"
        else:
            status, reason = TaskStatus.FAILED, f"exit code {exit_code}"
        self._finish(task, status, reason, exit_code, cancel)

    def on_spawn_failed(self, task_id: str, reason: str) -> None:
        """Fail a task whose command could not be started."""
        self._dispatched.discard(task_id)
        task = self._live.get(task_id)
        if task is None:
            return
        cancel = self._cancels.pop(task_id, None)
        status = TaskStatus.CANCELLED if cancel else TaskStatus.FAILED
        self._finish(task, status, cancel[0] if cancel else reason, None, cancel)

    # -- internals --------------------------------------------------------

    def _finish(
        self,
        task: Task,
        status: TaskStatus,
        reason: str,
        exit_code: int | None,
        cancel: tuple[str, list[Future[Task]]] | None,
    ) -> None:
        now = time.time()
        ops: list[Op] = []
        events: list[TaskEvent] = []
        if task.status is TaskStatus.PENDING:
            task = self._transition(
                task,
                TaskStatus.RUNNING,
                "started",
                now,
                ops,
                events,
                attempt=task.attempt + 1,
                started_at=now,
            )
        done = self._transition(
            task,
            status,
            reason,
            now,
            ops,
            events,
            exit_code=exit_code,
            finished_at=now,
        )
        self._settle(done)
        self._count_finish(done)
        ticket = self._commit(ops, events, urgent=cancel is not None)
        self._remember(done, ticket)
        logger.info("Task %r: %s (%s)", task.id, status.label, reason)
        for reply in cancel[1] if cancel else ():
            ticket.add_done_callback(lambda _, reply=reply: reply.set_result(done))

    def _refuse_cancel(
        self,
        task_id: str,
        cancel: tuple[str, list[Future[Task]]],
        kill_reason: str,
    ) -> None:
        ended = "timed out" if kill_reason == "timeout" else "exited on its own"
        error = IllegalTransition(
            task_id,
            "finishing",
            "cancel it",
            f"Its run {ended} before the cancel reached it.",
        )
        for reply in cancel[1]:
            reply.set_exception(error)

    def _count_finish(self, task: Task) -> None:
        self._finished_total[task.status] += 1
        if task.started_at is None or task.finished_at is None:
            return
        seconds = max(task.finished_at - task.started_at, 0.0)
        bucket = bisect.bisect_left(defaults.TASK_DURATION_BOUNDS_SECONDS, seconds)
        self._durations[bucket] += 1
        self._duration_sum += seconds

    def _cancel_running(self, task: Task, reason: str) -> Future[Task]:
        reply: Future[Task] = Future()
        pending = self._cancels.setdefault(task.id, (reason, []))
        pending[1].append(reply)
        assert self._runner is not None
        self._runner.tell("kill", task.id, "cancel")
        logger.info("Task %r: cancel requested while running", task.id)
        return reply

    def _delete(self, tasks: list[Task]) -> Future[None]:
        now = time.time()
        ops: list[Op] = []
        events: list[TaskEvent] = []
        assert self._scheduler is not None
        for task in tasks:
            self._scheduler.tell("remove", task.id)
            ops.extend(index_ops(task, None))
            if task.idempotency_key:
                ops.append(("idx_idem", task.idempotency_key.encode(), None))
                self._idempotency.pop(task.idempotency_key, None)
            for key, _ in self._store.scan("events", k.uid(task.id), limit=1 << 30):
                ops.append(("events", key, None))
            self._counts[task.status] -= 1
            self._live.pop(task.id, None)
            self._dispatched.discard(task.id)
            self._cancels.pop(task.id, None)
            events.append(
                evolve(self._event(task, task.status, "deleted", now), deleted=True)
            )
        ticket = self._commit(ops, events, record_events=False)
        for task in tasks:
            self._recent[task.id] = (None, ticket)
        ticket.add_done_callback(lambda _: [self._logs.remove(t.id) for t in tasks])
        logger.info("Tasks: deleted %d", len(tasks))
        return ticket

    def _transition(
        self,
        task: Task,
        status: TaskStatus,
        reason: str,
        now: float,
        ops: list[Op],
        events: list[TaskEvent],
        **values: object,
    ) -> Task:
        changed = evolve(
            task, status=status, status_reason=reason, updated_at=now, **values
        )
        self._counts[task.status] -= 1
        self._counts[status] += 1
        ops.extend(index_ops(task, changed))
        events.append(self._event(changed, task.status, reason, now))
        return changed

    def _event(
        self, task: Task, previous: TaskStatus | None, reason: str, now: float
    ) -> TaskEvent:
        self._event_seq += 1
        return TaskEvent(
            seq=self._event_seq,
            task_id=task.id,
            from_status=previous,
            to_status=task.status,
            reason=reason,
            at=now,
            attempt=task.attempt,
            project_id=task.project_id,
            exit_code=task.exit_code,
        )

    def _commit(
        self,
        ops: list[Op],
        events: list[TaskEvent],
        *,
        record_events: bool = True,
        urgent: bool = True,
    ) -> Future[None]:
        if record_events:
            ops.extend(
                ("events", k.event_key(e.task_id, e.seq), encode_event(e))
                for e in events
            )
        if events:
            ops.append(("meta", b"event_seq", k.u64(self._event_seq)))
        ticket = self._store.commit(ops, urgent=urgent)
        if events:
            assert self._bus is not None
            bus = self._bus
            ticket.add_done_callback(
                lambda t: None if t.exception() else bus.tell("publish", events)
            )
        return ticket

    def _queue(self, tasks: Iterable[Task]) -> None:
        entries = [
            Entry.of(t.id, t.priority, t.seq, t.project_id) for t in tasks if t.command
        ]
        if entries:
            assert self._scheduler is not None
            self._scheduler.tell("enqueue", entries)

    def _requeue(self, task: Task) -> None:
        assert self._scheduler is not None
        self._scheduler.tell("remove", task.id)
        self._queue([task])

    def _settle(self, task: Task) -> None:
        self._live.pop(task.id, None)
        self._dispatched.discard(task.id)

    def _remember(self, task: Task, ticket: Future[None]) -> None:
        self._recent[task.id] = (task, ticket)
        self._recent.move_to_end(task.id)
        while len(self._recent) > _RECENT_LIMIT:
            oldest = next(iter(self._recent.values()))
            if not oldest[1].done():
                break
            self._recent.popitem(last=False)

    def _lookup(self, task_id: str) -> Task:
        """Return the newest version of a task, committed or not."""
        task = self._live.get(task_id)
        if task is not None:
            return task
        recent = self._recent.get(task_id)
        if recent is not None:
            if recent[0] is None:
                raise TaskNotFound(task_id)
            return recent[0]
        raw = self._store.get("tasks", k.uid(task_id))
        if raw is None:
            raise TaskNotFound(task_id)
        return decode_task(raw)

    def _require_live(self, task_id: str) -> Task:
        task = self._lookup(task_id)
        if task.status.terminal:
            raise IllegalTransition(
                task_id,
                task.status.label,
                "update it",
                "Only pending tasks can be updated; retry it to run it again.",
            )
        return task

    def _idempotent(self, key: str) -> Task | None:
        if not key:
            return None
        task_id = self._idempotency.get(key)
        if task_id is None:
            raw = self._store.get("idx_idem", key.encode())
            if raw is None:
                return None
            task_id = k.uid_text(raw)
        try:
            return self._lookup(task_id)
        except TaskNotFound:
            return None

    def _check_idempotency(self, specs: Sequence[TaskSpec]) -> None:
        """Refuse a key reused for a different task, before anything changes."""
        seen: dict[str, TaskSpec] = {}
        for spec in specs:
            key = spec.idempotency_key
            if not key:
                continue
            earlier = seen.setdefault(key, spec)
            existing = self._idempotent(key)
            if existing is not None and not same_request(existing, spec):
                raise AlreadyExists(
                    f"idempotency_key {key[:64]!r} was used for task {existing.id} "
                    "with other fields; use a new key for a different task."
                )
            if earlier is not spec and earlier != spec:
                raise AlreadyExists(
                    f"idempotency_key {key[:64]!r} appears twice in the batch "
                    "with other fields."
                )

    def _check_projects(self, project_ids: Iterable[str]) -> None:
        for project_id in {p for p in project_ids if p}:
            if self._store.get("projects", k.uid(project_id)) is None:
                raise ProjectNotFound(project_id)

    def _project_task_ids(self, project_id: str) -> list[str]:
        ids = [
            k.uid_text(v) for _, v in self._scan_all("idx_project", k.uid(project_id))
        ]
        ids += [t.id for t in self._live.values() if t.project_id == project_id]
        return list(dict.fromkeys(ids))

    def _count_status(self, status: TaskStatus) -> int:
        return sum(1 for _ in self._scan_all("idx_status", k.small(status)))

    def _load_status(self, status: TaskStatus) -> list[Task]:
        ids = [v for _, v in self._scan_all("idx_status", k.small(status))]
        return [decode_task(raw) for raw in self._store.get_many("tasks", ids) if raw]

    def _scan_all(self, cf: str, prefix: bytes) -> Iterable[tuple[bytes, bytes]]:
        after = None
        while True:
            chunk = self._store.scan(cf, prefix, after=after, limit=_SCAN_CHUNK)
            yield from chunk
            if len(chunk) < _SCAN_CHUNK:
                return
            after = chunk[-1][0]
