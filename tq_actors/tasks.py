"""TaskActor: owns task records, their history, dependencies and workflows.

Every change becomes one list of store operations (record, indexes, history
events) committed atomically; callers hear of it only once it is durable
(see ``Durable``), and the event bus publishes it at the same moment.
Non-terminal tasks are kept in memory; reads of settled records go to the
store, outside this actor.

Where a live task stands is decided in one place, ``_place``: a dependency
condition that can never hold cancels it; an unmet one makes it wait; else
it is pending and, once the change is durable, goes to the scheduler (or
to an alarm while a start time or retry delay lies ahead). Whenever a task
ends or starts over, its dependents are placed again. A deleted dependency
can never be met; one being cancelled in order to be deleted is awaited
until it is gone, so that its dependents never start on it.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import random
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from tq_actors import defaults, devflow
from tq_actors.actor import Actor, Durable, Handle
from tq_actors.alarms import Alarms
from tq_actors.errors import (
    AlreadyExists,
    FailedPrecondition,
    IllegalTransition,
    InvalidArgument,
    NotFound,
    ProjectNotFound,
    TaskNotFound,
)
from tq_actors.graph import (
    UNMET_PREFIX,
    Edge,
    cycle_text,
    edge_state,
    find_cycle,
    unmet_reason,
)
from tq_actors.logs import LogFiles
from tq_actors.models import (
    Condition,
    Dependency,
    Development,
    Phase,
    Review,
    ServerEvent,
    ServerEventKind,
    Task,
    TaskChanges,
    TaskEvent,
    TaskSpec,
    TaskStatus,
    TestRun,
    Totals,
    Workflow,
    WorkflowSpec,
    evolve,
)
from tq_actors.records import (
    dependency_ops,
    index_ops,
    new_task,
    project_status_key,
    same_request,
)
from tq_actors.runner import RunRequest
from tq_actors.scheduler import Entry
from tq_actors.store import Op, Store
from tq_actors.store import keys as k
from tq_actors.store.codec import (
    decode_project,
    decode_task,
    decode_workflow,
    encode_event,
    encode_workflow,
)

logger = logging.getLogger(__name__)

_RECENT_LIMIT = 10_000
_SCAN_CHUNK = 10_000
_RETRY_JITTER = 0.25

_DELETED_WITH_PROJECT = "deleted with its project"

_Cancel = tuple[str, list[Future[Task]]]
# Stands in for the ticket of a change that is still being put together.
_UNCOMMITTED: Future[None] = Future()


def backoff_seconds(base: float, retry: int) -> float:
    """Delay before automatic retry number ``retry`` (1 for the first).

    The delay doubles with each retry, capped, and gains up to 25% random
    jitter on top so that tasks failing together do not retry in lockstep.
    """
    if base <= 0:
        return 0.0
    delay = min(base * 2 ** (retry - 1), defaults.MAX_RETRY_DELAY_SECONDS)
    # Jitter spreads retries out; it protects no secret.
    return delay * (1 + random.uniform(0, _RETRY_JITTER))  # noqa: S311


@dataclass
class _Change:
    """What one request changes, committed as one atomic write."""

    now: float
    ops: list[Op] = field(default_factory=list)
    events: list[TaskEvent] = field(default_factory=list)
    ready: dict[str, None] = field(default_factory=dict)
    settled: list[Task] = field(default_factory=list)
    cascade: list[str] = field(default_factory=list)


class TaskActor(Actor):
    """Creates, changes and settles tasks; the only writer of task records."""

    def __init__(self, *, store: Store, logs: LogFiles) -> None:
        super().__init__()
        self._store = store
        self._logs = logs
        self._live: dict[str, Task] = {}
        self._recent: OrderedDict[str, tuple[Task | None, Future[None]]] = OrderedDict()
        self._dispatched: set[str] = set()
        self._cancels: dict[str, _Cancel] = {}
        self._deleting: set[str] = set()
        # Projects whose tasks are being deleted: nothing new starts in them.
        self._closed_projects: set[str] = set()
        self._idempotency: dict[str, str] = {}
        self._dependents: dict[str, set[str]] = {}
        self._delayed: dict[str, int] = {}
        self._wake_seq = 0
        self._paused = False
        self._counts: Counter[TaskStatus] = Counter()
        self._project_counts: dict[str, Counter[TaskStatus]] = {}
        self._created_total = 0
        self._finished_total: Counter[TaskStatus] = Counter()
        self._durations = [0] * (len(defaults.TASK_DURATION_BOUNDS_SECONDS) + 1)
        self._duration_sum = 0.0
        self._task_seq = 0
        self._event_seq = 0
        self._workflow_seq = 0
        self._alarms = Alarms("task-alarms")
        self._scheduler: Handle | None = None
        self._runner: Handle | None = None
        self._bus: Handle | None = None

    def bind(self, scheduler: Handle, runner: Handle, bus: Handle) -> None:
        """Connect the actors this one tells about changes."""
        self._scheduler, self._runner, self._bus = scheduler, runner, bus

    def on_stop(self) -> None:
        """Drop the alarms of delayed tasks; they are set again at start-up."""
        self._alarms.stop()

    # -- start-up -------------------------------------------------------

    def recover(self) -> Durable:
        """Load unfinished tasks; fail (or retry) those found running; place the rest.

        Returns the number of tasks found running.
        """
        self._backfill_project_status()
        last = self._store.last_key("idx_created")
        self._task_seq = k.read_u64(last) if last else 0
        raw_seq = self._store.get("meta", b"event_seq")
        self._event_seq = k.read_u64(raw_seq) if raw_seq else 0
        last = self._store.last_key("idx_workflows")
        self._workflow_seq = k.read_u64(last) if last else 0
        self._paused = self._store.get("meta", b"paused") == b"1"
        assert self._scheduler is not None
        self._scheduler.tell("set_paused", self._paused)
        for status in TaskStatus:
            self._counts[status] = self._count_status(status)
        self._count_projects()

        change = _Change(time.time())
        interrupted: list[Task] = []
        waiting = TaskStatus.WAITING_FOR_DEPENDENCIES
        for status in (TaskStatus.PENDING, waiting, TaskStatus.RUNNING):
            for task in self._load_status(status):
                self._live[task.id] = task
                self._link(task)
                if task.idempotency_key:
                    self._idempotency[task.idempotency_key] = task.id
                if status is TaskStatus.RUNNING:
                    interrupted.append(task)
        for task in interrupted:
            logger.warning("Task %r: was running at start-up", task.id)
            if task.development is not None:
                self._end_test_run(task, None, "interrupted", change)
            else:
                self._end_attempt(task, TaskStatus.FAILED, "interrupted", None, change)
        for task in sorted(self._live.values(), key=lambda t: t.seq):
            if self._live.get(task.id) is task:
                self._place(task, change)
        self._drain(change)
        orphans = [(t.id, t.pid, t.started_at or 0.0) for t in interrupted]
        ticket = self._commit(change)
        assert self._runner is not None
        self._runner.tell("end_orphans", orphans)
        return Durable(len(interrupted), ticket)

    def _backfill_project_status(self) -> None:
        """Build idx_project_status for a data directory made before it existed."""
        if self._store.get("meta", b"idx_project_status") == b"1":
            return
        ops: list[Op] = []
        count = 0
        for _, raw in self._scan_all("tasks", b""):
            task = decode_task(raw)
            if task.project_id:
                ops.append(
                    ("idx_project_status", project_status_key(task), k.uid(task.id))
                )
                count += 1
            if len(ops) >= _SCAN_CHUNK:
                self._store.commit(ops).result()
                ops = []
        ops.append(("meta", b"idx_project_status", b"1"))
        self._store.commit(ops).result()
        if count:
            logger.info("Tasks: indexed %d task(s) by project and status", count)

    # -- requests -------------------------------------------------------

    def create(self, specs: Sequence[TaskSpec]) -> Durable:
        """Store new tasks in one atomic write and place them once durable."""
        self._check_projects(spec.project_id for spec in specs)
        self._check_idempotency(specs)
        self._check_dependencies(specs, ())
        change = _Change(time.time())
        created: list[Task] = []
        fresh = 0
        for spec in specs:
            existing = self._idempotent(spec.idempotency_key)
            if existing is not None:
                created.append(existing)
                continue
            created.append(self._add(spec, change))
            fresh += 1
        self._created_total += fresh
        self._drain(change)
        ticket = self._commit(change)
        logger.debug("Tasks: created %d", fresh)
        return Durable([self._peek(t.id) or t for t in created], ticket)

    def create_workflow(self, spec: WorkflowSpec, order: Sequence[int]) -> Durable:
        """Store a validated workflow and its tasks in one atomic write.

        ``order`` lists the tasks' indexes so that each comes after every
        task it depends on. Answers the workflow and its tasks by key.
        """
        if spec.project_id:
            self._check_projects([spec.project_id])
        self._check_projects(item.spec.project_id for item in spec.tasks)
        ids = [str(uuid.uuid4()) for _ in spec.tasks]
        id_of = {item.key: ids[i] for i, item in enumerate(spec.tasks)}
        resolved: list[TaskSpec] = []
        for item in spec.tasks:
            edges = tuple(Dependency(id_of[key], cond) for key, cond in item.after)
            merged = {d.task_id: d for d in (*item.spec.depends_on, *edges)}
            resolved.append(
                dataclasses.replace(item.spec, depends_on=tuple(merged.values()))
            )
        self._check_dependencies(resolved, ids, prefix=True)
        self._check_workflow_keys(resolved)
        change = _Change(time.time())
        self._workflow_seq += 1
        workflow = Workflow(
            id=str(uuid.uuid4()),
            seq=self._workflow_seq,
            name=spec.name,
            description=spec.description,
            project_id=spec.project_id,
            keys=tuple(item.key for item in spec.tasks),
            task_ids=tuple(ids),
            created_at=change.now,
        )
        tasks: dict[str, Task] = {}
        for index in order:
            tasks[ids[index]] = self._add(
                resolved[index], change, task_id=ids[index], workflow_id=workflow.id
            )
        self._created_total += len(ids)
        raw_id = k.uid(workflow.id)
        change.ops.append(("workflows", raw_id, encode_workflow(workflow)))
        change.ops.append(("idx_workflows", k.u64(workflow.seq), raw_id))
        self._drain(change)
        ticket = self._commit(change)
        logger.info("Workflow %r: created with %d tasks", workflow.id, len(ids))
        listed = tuple(
            (key, self._peek(task_id) or tasks[task_id])
            for key, task_id in zip(workflow.keys, ids, strict=True)
        )
        return Durable((workflow, listed), ticket)

    def update(self, task_id: str, changes: TaskChanges) -> Durable:
        """Change a task that waits and has not been dispatched."""
        task = self._require_live(task_id)
        if task.status is TaskStatus.RUNNING or task_id in self._dispatched:
            raise IllegalTransition(
                task_id,
                task.status.label,
                "update it",
                "Only pending tasks can be updated; cancel and retry it instead.",
            )
        values = {
            name: value
            for name, value in dataclasses.asdict(changes).items()
            if value is not None and name != "clear_start_after"
        }
        if "tags" in values:
            values["tags"] = tuple(values["tags"])
        if changes.depends_on is not None:
            values["depends_on"] = changes.depends_on
            self._check_new_edges(task_id, changes.depends_on)
        if changes.clear_start_after:
            values["start_after"] = None
        development = task.development
        if (
            development is not None
            and development.phase in (Phase.TESTING, Phase.AI_REVIEW)
            and changes.command is not None
            and changes.command != task.command
        ):
            raise FailedPrecondition(
                f"Task {task_id} is in {development.phase.label}: its command is "
                "the test that passed or is running; a review rejection or "
                "reopening goes back to implementation, where it can change."
            )
        change = _Change(time.time())
        updated = evolve(task, **values, updated_at=change.now)
        change.ops.extend(index_ops(task, updated))
        if updated.depends_on != task.depends_on:
            change.ops.extend(dependency_ops(task, remove=True))
            change.ops.extend(dependency_ops(updated))
            self._unlink(task)
            self._link(updated)
        self._live[task_id] = updated
        self._unqueue(task_id)
        placed = self._place(updated, change)
        self._drain(change)
        ticket = self._commit(change)
        return Durable(placed, ticket)

    def cancel(self, task_id: str, reason: str) -> Durable | Future[Task]:
        """Cancel a waiting task at once, or end a running one's process group."""
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
        change = _Change(time.time())
        cancelled = self._cancel_now(task, reason, change)
        self._drain(change)
        ticket = self._commit(change)
        logger.info("Task %r: cancelled while %s", task_id, task.status.label)
        return Durable(cancelled, ticket)

    def retry(self, task_id: str) -> Durable:
        """Queue a settled task again as a new attempt.

        A task in the testing phase of its development workflow whose test
        run has ended may also be retried: that runs the tests again.
        """
        task = self._lookup(task_id)
        self._check_open(task.project_id)
        if self._test_rerun_allowed(task):
            return self._rerun_tests(task)
        if task.development is not None and task.development.phase.ended:
            raise FailedPrecondition(
                f"Task {task_id}'s development workflow is "
                f"{task.development.phase.label}; reopen it instead of retrying."
            )
        if not task.status.terminal:
            raise IllegalTransition(
                task_id,
                task.status.label,
                "retry it",
                "Only completed, failed or cancelled tasks can be retried.",
            )
        state, blocker, condition = self._dependency_state(task)
        if state is Edge.NEVER:
            raise FailedPrecondition(
                f"Task {task_id} cannot run: "
                + _never_text(task, blocker, condition)
                + ". Retry that dependency (or the workflow) first."
            )
        change = _Change(time.time())
        development = task.development
        if (
            development is not None
            and development.phase is Phase.TESTING
            and task.command
        ):
            development = evolve(development, test_due=True, test_run=TestRun())
        queued = self._restart(task, "retry requested", change, development=development)
        self._place(queued, change)
        change.cascade.append(task_id)
        self._drain(change)
        ticket = self._commit(change)
        logger.info("Task %r: retry requested", task_id)
        return Durable(self._live.get(task_id, queued), ticket)

    def delete(self, task_id: str, cascade: bool) -> Durable:
        """Delete a task that is not running, with its history and log.

        A task others depend on goes only with ``cascade``, which deletes
        every task depending on it, transitively. Answers the deleted ids.
        """
        task = self._lookup(task_id)
        doomed = [task]
        dependents = self._dependent_ids(task_id)
        if dependents and not cascade:
            raise FailedPrecondition(
                f"Task {task_id} has {len(dependents)} dependent task(s), "
                f"e.g. {dependents[0]}; delete them first or ask to cascade."
            )
        if cascade:
            doomed = self._downstream(task)
        for item in doomed:
            if item.status is TaskStatus.RUNNING or item.id in self._dispatched:
                raise IllegalTransition(
                    item.id, item.status.label, "delete it", "Cancel it first."
                )
        ticket = self._delete(doomed)
        return Durable([t.id for t in doomed], ticket)

    def delete_project_tasks(self, project_id: str) -> Durable | Future[int]:
        """Delete every task of a project; cancel the running ones first.

        Tasks without a process are deleted at once, as ``delete`` does. A
        running (or dispatched) task is cancelled as ``cancel`` does: once
        its process group is gone and the cancel is durable and published,
        this comes back to delete it, with any task the project gained
        meanwhile; its dependents wait until then. Answers how many tasks
        were deleted.

        Until ``open_project``, no task is created or retried in the project,
        so the rounds end.
        """
        self._closed_projects.add(project_id)
        tasks = [
            task
            for task in map(self._peek, self._project_task_ids(project_id))
            if task is not None
        ]
        running = [t for t in tasks if self._has_process(t)]
        idle = [t for t in tasks if not self._has_process(t)]
        ticket = self._delete(idle) if idle else _resolved()
        if not running:
            return Durable(len(idle), ticket)

        self._deleting.update(t.id for t in running)
        cancels = [self._cancel_running(t, _DELETED_WITH_PROJECT) for t in running]
        answer: Future[int] = Future()
        me = Handle(self.actor_ref)

        def again(_: Future[None]) -> None:
            error = ticket.exception()
            if error is not None:
                # TODO: the running tasks stay marked for deletion, so their
                # dependents wait until the project is deleted again or the
                # server restarts.
                answer.set_exception(error)
                return
            rest = me.ask("delete_project_tasks", project_id)
            rest.add_done_callback(lambda done: _add_count(done, len(idle), answer))

        _all_done([ticket, *cancels]).add_done_callback(again)
        logger.info(
            "Project %r: cancelling %d running task(s) to delete them",
            project_id,
            len(running),
        )
        return answer

    def open_project(self, project_id: str) -> None:
        """Let tasks be created in a project again (its delete is over)."""
        self._closed_projects.discard(project_id)

    def cancel_workflow(self, workflow_id: str, reason: str) -> Future[None]:
        """Cancel every task of a workflow that has not ended.

        Waiting tasks are cancelled in one write, all with the given reason;
        the answer comes once the running ones' process groups are gone.
        """
        workflow = self._workflow(workflow_id)
        reason = reason or f"workflow {workflow_id} cancelled"
        live = [self._live[t] for t in workflow.task_ids if t in self._live]
        if not live:
            raise FailedPrecondition(
                f"Workflow {workflow_id} has ended; nothing is left to cancel. "
                "Retry it to run its failed and cancelled tasks again."
            )
        change = _Change(time.time())
        waits: list[Future[object]] = []
        for task in live:
            if task.status is TaskStatus.RUNNING or task.id in self._dispatched:
                waits.append(self._cancel_running(task, reason))  # type: ignore[arg-type]
            else:
                self._cancel_now(task, reason, change)
        self._drain(change)
        waits.append(self._commit(change))  # type: ignore[arg-type]
        logger.info("Workflow %r: cancelled %d task(s)", workflow_id, len(live))
        return _all_done(waits)

    def retry_workflow(self, workflow_id: str) -> Durable:
        """Run a workflow's failed and cancelled tasks again, with all they gate."""
        workflow = self._workflow(workflow_id)
        tasks = {t.id: t for t in map(self._peek, workflow.task_ids) if t is not None}
        for task in tasks.values():
            self._check_open(task.project_id)
        roots = [
            t
            for t in tasks.values()
            if t.status is TaskStatus.FAILED
            or (
                t.status is TaskStatus.CANCELLED
                and not t.status_reason.startswith(UNMET_PREFIX)
            )
        ]
        if not roots:
            raise FailedPrecondition(
                f"Workflow {workflow_id} has no failed or cancelled task to retry."
            )
        below: dict[str, list[str]] = {}
        for task in tasks.values():
            for dependency in task.depends_on:
                below.setdefault(dependency.task_id, []).append(task.id)
        again: dict[str, Task] = {}
        work = [t.id for t in roots]
        while work:
            task_id = work.pop()
            task = tasks.get(task_id)
            if task is None or task_id in again or not task.status.terminal:
                continue
            again[task_id] = task
            work.extend(below.get(task_id, ()))
        change = _Change(time.time())
        restarted = [
            self._restart(t, f"workflow {workflow_id} retried", change)
            for t in sorted(again.values(), key=lambda t: t.seq)
        ]
        for task in restarted:
            if self._live.get(task.id) is task:
                self._place(task, change)
        change.cascade.extend(again)
        self._drain(change)
        ticket = self._commit(change)
        logger.info("Workflow %r: retrying %d task(s)", workflow_id, len(again))
        return Durable(len(again), ticket)

    def set_paused(self, paused: bool) -> Durable:
        """Pause or resume dispatching; the choice outlives a restart."""
        assert self._scheduler is not None
        changed = paused != self._paused
        self._paused = paused
        ticket = self._store.commit([("meta", b"paused", b"1" if paused else b"0")])
        if changed:
            event = ServerEvent(
                kind=ServerEventKind.QUEUE_PAUSED
                if paused
                else ServerEventKind.QUEUE_RESUMED,
                at=time.time(),
            )
            assert self._bus is not None
            bus = self._bus
            ticket.add_done_callback(
                lambda t: None if t.exception() else bus.tell("publish_server", [event])
            )
        scheduler = self._scheduler
        if paused:
            scheduler.tell("set_paused", True)
        else:
            ticket.add_done_callback(lambda _: scheduler.tell("set_paused", False))
        logger.info("Queue: %s", "paused" if paused else "resumed")
        return Durable(paused, ticket)

    def project_counts(self, project_ids: list[str]) -> dict[str, dict[str, int]]:
        """Return each project's tasks per status label (zeros included)."""
        empty: Counter[TaskStatus] = Counter()
        return {
            project_id: {
                s.label: self._project_counts.get(project_id, empty)[s]
                for s in TaskStatus
            }
            for project_id in project_ids
        }

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

    # -- messages from the scheduler, the runner and the alarms -------------

    def dispatch(self, task_id: str) -> None:
        """Hand a queued task to the runner, unless it changed meanwhile."""
        task = self._live.get(task_id)
        assert self._runner is not None
        if task_id in self._dispatched:
            return
        if (
            task is None
            or task.status is not TaskStatus.PENDING
            or task_id in self._delayed
            or not _runnable(task)
        ):
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

    def wake(self, task_id: str, token: int) -> None:
        """Queue a task whose start time or retry delay has passed."""
        if self._delayed.get(task_id) != token:
            return
        del self._delayed[task_id]
        task = self._live.get(task_id)
        if task is not None and task.status is TaskStatus.PENDING:
            self._enqueue([task])

    def on_started(self, task_id: str, pid: int, started_at: float) -> None:
        """Record that a dispatched task's process is running."""
        task = self._live.get(task_id)
        if task is None or task.status is not TaskStatus.PENDING:
            return
        change = _Change(started_at)
        development = task.development
        if development is not None:
            development = evolve(
                development,
                test_due=False,
                test_run=TestRun(
                    attempt=task.attempt + 1, running=True, started_at=started_at
                ),
            )
        running = self._transition(
            task,
            TaskStatus.RUNNING,
            "started" if development is None else "test run started",
            change,
            attempt=task.attempt + 1,
            started_at=started_at,
            finished_at=None,
            retry_at=None,
            exit_code=None,
            pid=pid,
            development=development,
        )
        self._live[task_id] = running
        self._commit(change, urgent=False)

    def on_exit(self, task_id: str, exit_code: int, kill_reason: str) -> None:
        """Settle a task whose run has ended, or queue its next attempt."""
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

    # -- the development workflow -------------------------------------------

    def dev_advance(self, task_id: str, from_phase: Phase | None = None) -> Durable:
        """Move to the next phase if every gate of the current one is met.

        With ``from_phase``, only from that phase: a repeated call changes
        nothing.
        """
        task = self._dev_task(task_id)
        development = task.development
        assert development is not None
        if from_phase is not None and development.phase is not from_phase:
            raise FailedPrecondition(
                f"Task {task_id} is in {development.phase.label}, not "
                f"{from_phase.label}: it has already been advanced; nothing changed."
            )
        gates = devflow.unmet_gates(task, *self._gate_limits(task))
        if gates:
            raise FailedPrecondition(
                f"Task {task_id} cannot leave {development.phase.label}: "
                + "; ".join(gates)
                + "."
            )
        target = devflow.NEXT_PHASE[development.phase]
        change = _Change(time.time())
        values: dict[str, object] = {"phase": target}
        if target is Phase.TESTING:
            values.update(
                coverage=None,
                test_due=bool(task.command),
                test_run=TestRun() if task.command else None,
            )
        if target is Phase.COMPLETED:
            values["completed_at"] = change.now
        note = f"phase {development.phase.label} -> {target.label}"
        if development.phase is Phase.PLANNING:
            note += f"; documentation {development.documentation_path}"
        if development.phase is Phase.TESTING:
            note += _testing_note(development)
        if development.phase is Phase.AI_REVIEW:
            note += "; approved by " + ", ".join(sorted(devflow.approvals(development)))
        updated = self._set_development(
            task, evolve(development, **values), note, change
        )
        if target is Phase.TESTING and task.command:
            self._place(updated, change)
        if target is Phase.COMPLETED:
            done = self._transition(
                updated,
                TaskStatus.COMPLETED,
                "development workflow completed",
                change,
                finished_at=change.now,
            )
            self._unqueue(task_id)
            self._settle(done, change)
        return self._dev_commit(task_id, change)

    def dev_set_documentation(self, task_id: str, path: str) -> Durable:
        """Record the technical documentation's path."""
        task = self._dev_task(task_id)
        development = task.development
        assert development is not None
        self._refuse_ended(task)
        change = _Change(time.time())
        self._set_development(
            task,
            evolve(development, documentation_path=path),
            f"technical documentation {path}",
            change,
        )
        return self._dev_commit(task_id, change)

    def dev_set_coverage(self, task_id: str, coverage: float) -> Durable:
        """Record the test coverage measured in the testing phase."""
        task = self._dev_task(task_id)
        development = task.development
        assert development is not None
        if development.phase is not Phase.TESTING:
            raise FailedPrecondition(
                f"Task {task_id} is in {development.phase.label}; test coverage "
                "is reported in testing."
            )
        change = _Change(time.time())
        self._set_development(
            task,
            evolve(development, coverage=coverage),
            f"test coverage {coverage:g}%",
            change,
        )
        return self._dev_commit(task_id, change)

    def dev_add_review(self, task_id: str, review: Review) -> Durable:
        """Record an AI review; a rejection sends the task back to implementation."""
        task = self._dev_task(task_id)
        development = task.development
        assert development is not None
        if development.phase is not Phase.AI_REVIEW:
            raise FailedPrecondition(
                f"Task {task_id} is in {development.phase.label}; reviews are "
                "added in ai_review."
            )
        change = _Change(time.time())
        added = evolve(review, round=development.review_round, created_at=change.now)
        verdict = "approved" if review.approved else "rejected"
        note = (
            f"review by {review.model_name} ({review.review_type.name.lower()}, "
            f"score {review.score:g}): {verdict}"
        )
        values: dict[str, object] = {"reviews": (*development.reviews, added)}
        if not review.approved:
            values.update(
                phase=Phase.IMPLEMENTATION,
                review_round=development.review_round + 1,
                coverage=None,
                test_run=None,
            )
            note += "; back to implementation"
        self._set_development(task, evolve(development, **values), note, change)
        return self._dev_commit(task_id, change)

    def dev_fail(self, task_id: str, reason: str) -> Durable:
        """End the workflow as failed; the task fails with it."""
        task = self._dev_task(task_id)
        development = task.development
        assert development is not None
        self._refuse_ended(task)
        if task.status is TaskStatus.RUNNING or task_id in self._dispatched:
            raise IllegalTransition(
                task_id,
                "running its test run",
                "fail its workflow",
                "Cancel the task or wait for the run to end.",
            )
        reason = reason or "failed by request"
        change = _Change(time.time())
        updated = self._set_development(
            task,
            evolve(development, phase=Phase.FAILED, failure_reason=reason),
            f"phase {development.phase.label} -> failed: {reason}",
            change,
        )
        self._unqueue(task_id)
        done = self._transition(
            updated, TaskStatus.FAILED, reason, change, finished_at=change.now
        )
        self._settle(done, change)
        return self._dev_commit(task_id, change)

    def dev_reopen(self, task_id: str) -> Durable:
        """Take a failed or completed workflow back to implementation."""
        task = self._lookup(task_id)
        development = task.development
        if development is None:
            raise FailedPrecondition(
                f"Task {task_id} is not under the development workflow."
            )
        if not development.phase.ended:
            raise FailedPrecondition(
                f"Task {task_id} is in {development.phase.label}; only a failed or "
                "completed workflow can be reopened."
            )
        if not task.status.terminal:
            raise IllegalTransition(
                task_id, task.status.label, "reopen it", "Wait for it to end."
            )
        change = _Change(time.time())
        reopened = evolve(
            development,
            phase=Phase.IMPLEMENTATION,
            review_round=development.review_round + 1,
            coverage=None,
            test_run=None,
            test_due=False,
            completed_at=None,
            failure_reason="",
        )
        queued = self._restart(
            task,
            f"phase {development.phase.label} -> implementation: reopened",
            change,
            development=reopened,
        )
        self._place(queued, change)
        change.cascade.append(task_id)
        return self._dev_commit(task_id, change)

    def _dev_task(self, task_id: str) -> Task:
        task = self._lookup(task_id)
        if task.development is None:
            raise FailedPrecondition(
                f"Task {task_id} is not under the development workflow; create it "
                "with development_workflow set."
            )
        if task.status.terminal and not task.development.phase.ended:
            raise IllegalTransition(
                task_id,
                task.status.label,
                "change its workflow",
                "Retry it to resume its workflow.",
            )
        return task

    def _refuse_ended(self, task: Task) -> None:
        assert task.development is not None
        if task.development.phase.ended:
            raise FailedPrecondition(
                f"Task {task.id}'s development workflow is "
                f"{task.development.phase.label}; reopen it first."
            )

    def _set_development(
        self, task: Task, development: Development, note: str, change: _Change
    ) -> Task:
        """Store a new development state as one history event."""
        updated = evolve(task, development=development, updated_at=change.now)
        change.ops.extend(index_ops(task, updated))
        change.events.append(self._event(updated, task.status, note, change.now))
        if task.id in self._live:
            self._live[task.id] = updated
        logger.info("Task %r: %s", task.id, note)
        return updated

    def _dev_commit(self, task_id: str, change: _Change) -> Durable:
        self._drain(change)
        ticket = self._commit(change)
        return Durable(self._lookup(task_id), ticket)

    def _gate_limits(self, task: Task) -> tuple[float, int]:
        """The coverage threshold and review count of the task's project."""
        if task.project_id:
            raw = self._store.get("projects", k.uid(task.project_id))
            if raw is not None:
                project = decode_project(raw)
                return project.coverage_threshold, project.required_reviews
        return defaults.COVERAGE_THRESHOLD, defaults.REQUIRED_REVIEWS

    def _test_rerun_allowed(self, task: Task) -> bool:
        development = task.development
        return (
            development is not None
            and development.phase is Phase.TESTING
            and bool(task.command)
            and task.status is TaskStatus.PENDING
            and task.id not in self._dispatched
            and not devflow.test_run_open(task)
        )

    def _rerun_tests(self, task: Task) -> Durable:
        assert task.development is not None
        change = _Change(time.time())
        updated = self._set_development(
            task,
            evolve(task.development, test_due=True, test_run=TestRun()),
            "test run requested again",
            change,
        )
        self._place(updated, change)
        return self._dev_commit(task.id, change)

    def _end_test_run(
        self, task: Task, exit_code: int | None, reason: str, change: _Change
    ) -> Task:
        """Record a test run's end; the task waits for its next phase."""
        development = task.development
        assert development is not None
        run = development.test_run or TestRun(attempt=task.attempt)
        ended = evolve(run, running=False, exit_code=exit_code, finished_at=change.now)
        queued = self._transition(
            task,
            TaskStatus.PENDING,
            f"test run ended: {reason}",
            change,
            exit_code=exit_code,
            pid=0,
            development=evolve(development, test_run=ended, test_due=False),
        )
        self._live[task.id] = queued
        return queued

    # -- placing tasks ----------------------------------------------------

    def _add(
        self,
        spec: TaskSpec,
        change: _Change,
        *,
        task_id: str = "",
        workflow_id: str = "",
    ) -> Task:
        """Create one task in the status its dependencies call for."""
        self._task_seq += 1
        task = new_task(
            spec, self._task_seq, change.now, task_id=task_id, workflow_id=workflow_id
        )
        state, _, _ = self._dependency_state(task)
        if state is Edge.WAITING:
            task = evolve(task, status=TaskStatus.WAITING_FOR_DEPENDENCIES)
        self._live[task.id] = task
        self._link(task)
        self._count(task, +1)
        if task.idempotency_key:
            self._idempotency[task.idempotency_key] = task.id
            change.ops.append(
                ("idx_idem", task.idempotency_key.encode(), k.uid(task.id))
            )
        change.ops.extend(index_ops(None, task))
        change.ops.extend(dependency_ops(task))
        change.events.append(self._event(task, None, "created", change.now))
        if state is not Edge.WAITING:
            self._place(task, change)
        return task

    def _place(self, task: Task, change: _Change) -> Task:
        """Move a live, undispatched task to where its dependencies put it."""
        state, blocker, condition = self._dependency_state(task)
        if state is Edge.NEVER:
            return self._cancel_now(task, _never_text(task, blocker, condition), change)
        waiting = TaskStatus.WAITING_FOR_DEPENDENCIES
        if state is Edge.WAITING:
            if task.status is not waiting:
                self._unqueue(task.id)
                task = self._transition(
                    task, waiting, "waiting for dependencies", change
                )
                self._live[task.id] = task
            return task
        if task.status is waiting:
            task = self._transition(
                task, TaskStatus.PENDING, "dependencies met", change
            )
            self._live[task.id] = task
        change.ready[task.id] = None
        return task

    def _drain(self, change: _Change) -> None:
        """Place the dependents of every task that ended or started over."""
        while change.cascade:
            dependency_id = change.cascade.pop()
            for dependent_id in sorted(self._dependents.get(dependency_id, ())):
                task = self._live.get(dependent_id)
                if (
                    task is None
                    or task.status is TaskStatus.RUNNING
                    or dependent_id in self._dispatched
                ):
                    continue
                self._place(task, change)

    def _dependency_state(
        self, task: Task
    ) -> tuple[Edge, Task | str | None, Condition | None]:
        """Return where a task's dependencies stand, and the one that decides it.

        The decider is the dependency (or the id of a deleted one) whose
        condition can never hold, else the first one still awaited. One
        being cancelled in order to be deleted is awaited, whatever its status.
        """
        awaited: tuple[Task, Condition] | None = None
        for dependency in task.depends_on:
            found = self._peek(dependency.task_id)
            if found is None:
                return Edge.NEVER, dependency.task_id, dependency.condition
            state = edge_state(dependency.condition, found.status)
            if found.id in self._deleting:
                state = Edge.WAITING
            if state is Edge.NEVER:
                return Edge.NEVER, found, dependency.condition
            if state is Edge.WAITING and awaited is None:
                awaited = (found, dependency.condition)
        if awaited is not None:
            return Edge.WAITING, awaited[0], awaited[1]
        return Edge.MET, None, None

    def _schedule(self, change: _Change, ticket: Future[None]) -> None:
        """Once a change is durable, queue its ready tasks or set their alarms."""
        ready: list[Task] = []
        alarms: list[tuple[float, str, int]] = []
        monotonic = time.monotonic()
        for task_id in change.ready:
            task = self._live.get(task_id)
            if (
                task is None
                or task.status is not TaskStatus.PENDING
                or not _runnable(task)
                or task_id in self._dispatched
            ):
                continue
            due = max(task.start_after or 0.0, task.retry_at or 0.0)
            if due > change.now:
                self._wake_seq += 1
                self._delayed[task_id] = self._wake_seq
                alarms.append((monotonic + due - change.now, task_id, self._wake_seq))
            else:
                ready.append(task)
        if not ready and not alarms:
            return
        me = Handle(self.actor_ref)

        def release(_: Future[None]) -> None:
            self._enqueue(ready)
            for deadline, task_id, token in alarms:
                self._alarms.at(
                    deadline,
                    lambda task_id=task_id, token=token: me.tell(
                        "wake", task_id, token
                    ),
                )

        ticket.add_done_callback(release)

    def _enqueue(self, tasks: Iterable[Task]) -> None:
        entries = [Entry.of(t.id, t.priority, t.seq, t.project_id) for t in tasks]
        if entries:
            assert self._scheduler is not None
            self._scheduler.tell("enqueue", entries)

    def _unqueue(self, task_id: str) -> None:
        assert self._scheduler is not None
        self._scheduler.tell("remove", task_id)
        self._delayed.pop(task_id, None)

    def _link(self, task: Task) -> None:
        for dependency in task.depends_on:
            self._dependents.setdefault(dependency.task_id, set()).add(task.id)

    def _unlink(self, task: Task) -> None:
        for dependency in task.depends_on:
            dependents = self._dependents.get(dependency.task_id)
            if dependents is not None:
                dependents.discard(task.id)
                if not dependents:
                    del self._dependents[dependency.task_id]

    # -- ending and restarting ----------------------------------------------

    def _finish(
        self,
        task: Task,
        status: TaskStatus,
        reason: str,
        exit_code: int | None,
        cancel: _Cancel | None,
    ) -> None:
        change = _Change(time.time())
        if task.status is TaskStatus.PENDING:
            task = self._transition(
                task,
                TaskStatus.RUNNING,
                "started",
                change,
                attempt=task.attempt + 1,
                started_at=change.now,
            )
        self._count_finish(status, task.started_at, change.now)
        development = task.development
        if development is not None and development.test_run is not None:
            ended = evolve(
                development.test_run,
                running=False,
                exit_code=exit_code,
                finished_at=change.now,
            )
            task = evolve(task, development=evolve(development, test_run=ended))
        if task.development is not None and cancel is None:
            done = self._end_test_run(task, exit_code, reason, change)
        else:
            done = self._end_attempt(task, status, reason, exit_code, change)
        self._drain(change)
        ticket = self._commit(change, urgent=cancel is not None)
        logger.info("Task %r: %s (%s)", task.id, done.status.label, done.status_reason)
        for reply in cancel[1] if cancel else ():
            ticket.add_done_callback(lambda _, reply=reply: reply.set_result(done))

    def _end_attempt(
        self,
        task: Task,
        status: TaskStatus,
        reason: str,
        exit_code: int | None,
        change: _Change,
    ) -> Task:
        """Settle a run's end, or queue the next attempt when retries are left."""
        if status is TaskStatus.FAILED and task.auto_retries < task.max_retries:
            retry = task.auto_retries + 1
            delay = backoff_seconds(task.retry_delay_seconds, retry)
            queued = self._transition(
                task,
                TaskStatus.PENDING,
                f"{reason}; retry {retry} of {task.max_retries} in {delay:.1f}s",
                change,
                exit_code=exit_code,
                finished_at=None,
                pid=0,
                auto_retries=retry,
                retry_at=change.now + delay,
            )
            self._live[task.id] = queued
            change.ready[task.id] = None
            return queued
        done = self._transition(
            task,
            status,
            reason,
            change,
            exit_code=exit_code,
            finished_at=change.now,
        )
        self._settle(done, change)
        return done

    def _cancel_now(self, task: Task, reason: str, change: _Change) -> Task:
        """Cancel a task that has no process, in this change."""
        self._unqueue(task.id)
        cancelled = self._transition(
            task,
            TaskStatus.CANCELLED,
            reason,
            change,
            finished_at=change.now,
            retry_at=None,
        )
        self._settle(cancelled, change)
        return cancelled

    def _restart(
        self, task: Task, reason: str, change: _Change, **values: object
    ) -> Task:
        """Make a settled task live again as pending, for a new attempt."""
        queued = self._transition(
            task,
            TaskStatus.PENDING,
            reason,
            change,
            **{
                "exit_code": None,
                "finished_at": None,
                "started_at": None,
                "retry_at": None,
                "pid": 0,
                "auto_retries": 0,
                **values,
            },
        )
        self._live[task.id] = queued
        self._link(queued)
        self._recent.pop(task.id, None)
        return queued

    def _settle(self, task: Task, change: _Change) -> None:
        # Visible to lookups at once; _commit files it with its ticket.
        self._recent[task.id] = (task, _UNCOMMITTED)
        self._live.pop(task.id, None)
        self._dispatched.discard(task.id)
        self._delayed.pop(task.id, None)
        self._unlink(task)
        change.settled.append(task)
        change.cascade.append(task.id)

    def _refuse_cancel(self, task_id: str, cancel: _Cancel, kill_reason: str) -> None:
        ended = "timed out" if kill_reason == "timeout" else "exited on its own"
        error = IllegalTransition(
            task_id,
            "finishing",
            "cancel it",
            f"Its run {ended} before the cancel reached it.",
        )
        for reply in cancel[1]:
            reply.set_exception(error)

    def _count_finish(
        self, status: TaskStatus, started_at: float | None, finished_at: float
    ) -> None:
        self._finished_total[status] += 1
        if started_at is None:
            return
        seconds = max(finished_at - started_at, 0.0)
        bucket = bisect.bisect_left(defaults.TASK_DURATION_BOUNDS_SECONDS, seconds)
        self._durations[bucket] += 1
        self._duration_sum += seconds

    def _has_process(self, task: Task) -> bool:
        """Whether a task is running or handed to the runner to run."""
        return task.status is TaskStatus.RUNNING or task.id in self._dispatched

    def _cancel_running(self, task: Task, reason: str) -> Future[Task]:
        reply: Future[Task] = Future()
        pending = self._cancels.setdefault(task.id, (reason, []))
        pending[1].append(reply)
        assert self._runner is not None
        self._runner.tell("kill", task.id, "cancel")
        logger.info("Task %r: cancel requested while running", task.id)
        return reply

    def _delete(self, tasks: list[Task]) -> Future[None]:
        change = _Change(time.time())
        for task in tasks:
            self._unqueue(task.id)
            change.ops.extend(index_ops(task, None))
            change.ops.extend(dependency_ops(task, remove=True))
            if task.idempotency_key:
                change.ops.append(("idx_idem", task.idempotency_key.encode(), None))
                self._idempotency.pop(task.idempotency_key, None)
            for key, _ in self._store.scan("events", k.uid(task.id), limit=1 << 30):
                change.ops.append(("events", key, None))
            self._count(task, -1)
            self._live.pop(task.id, None)
            self._unlink(task)
            self._dispatched.discard(task.id)
            self._cancels.pop(task.id, None)
            self._deleting.discard(task.id)
            change.events.append(
                evolve(
                    self._event(task, task.status, "deleted", change.now),
                    deleted=True,
                )
            )
        change.cascade.extend(t.id for t in tasks)
        for task in tasks:
            self._recent[task.id] = (None, _UNCOMMITTED)
        self._drop_empty_workflows({t.workflow_id for t in tasks} - {""}, change)
        self._drain(change)
        ticket = self._commit(change)
        for task in tasks:
            self._recent[task.id] = (None, ticket)
        ticket.add_done_callback(lambda _: [self._logs.remove(t.id) for t in tasks])
        logger.info("Tasks: deleted %d", len(tasks))
        return ticket

    def _drop_empty_workflows(self, workflow_ids: set[str], change: _Change) -> None:
        """Delete the records of workflows whose every task is gone."""
        for workflow_id in workflow_ids:
            try:
                workflow = self._workflow(workflow_id)
            except NotFound:
                continue
            if any(self._peek(t) is not None for t in workflow.task_ids):
                continue
            change.ops.append(("workflows", k.uid(workflow.id), None))
            change.ops.append(("idx_workflows", k.u64(workflow.seq), None))
            logger.info("Workflow %r: deleted with its last task", workflow.id)

    # -- records, events, commits ----------------------------------------------

    def _transition(
        self,
        task: Task,
        status: TaskStatus,
        reason: str,
        change: _Change,
        **values: object,
    ) -> Task:
        changed = evolve(
            task, status=status, status_reason=reason, updated_at=change.now, **values
        )
        self._count(task, -1)
        self._count(changed, +1)
        change.ops.extend(index_ops(task, changed))
        change.events.append(self._event(changed, task.status, reason, change.now))
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
            phase=task.development.phase if task.development else None,
        )

    def _commit(self, change: _Change, *, urgent: bool = True) -> Future[None]:
        """Write a change atomically; publish its events once it is durable.

        Every event published is stored in its task's history in the same
        write, except the mark of a deletion: that task's history goes.
        """
        ops, events = change.ops, change.events
        ops.extend(
            ("events", k.event_key(e.task_id, e.seq), encode_event(e))
            for e in events
            if not e.deleted
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
        for task in change.settled:
            self._remember(task, ticket)
        self._schedule(change, ticket)
        return ticket

    def _remember(self, task: Task, ticket: Future[None]) -> None:
        self._recent[task.id] = (task, ticket)
        self._recent.move_to_end(task.id)
        while len(self._recent) > _RECENT_LIMIT:
            oldest = next(iter(self._recent.values()))
            if not oldest[1].done():
                break
            self._recent.popitem(last=False)

    # -- lookups and checks ----------------------------------------------------

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

    def _peek(self, task_id: str) -> Task | None:
        try:
            return self._lookup(task_id)
        except TaskNotFound:
            return None

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

    def _workflow(self, workflow_id: str) -> Workflow:
        raw = self._store.get("workflows", k.uid(workflow_id))
        if raw is None:
            raise NotFound(f"Workflow {workflow_id} not found.")
        return decode_workflow(raw)

    def _dependent_ids(self, task_id: str) -> list[str]:
        """Every task that depends on task_id, live or settled."""
        found = dict.fromkeys(sorted(self._dependents.get(task_id, ())))
        prefix = k.uid(task_id)
        for key, _ in self._scan_all("idx_dependents", prefix):
            dependent = k.uid_text(key[16:])
            if self._peek(dependent) is not None:
                found[dependent] = None
        return list(found)

    def _downstream(self, task: Task) -> list[Task]:
        """The task and every task depending on it, transitively."""
        found = {task.id: task}
        work = [task.id]
        while work:
            for dependent_id in self._dependent_ids(work.pop()):
                if dependent_id not in found:
                    dependent = self._peek(dependent_id)
                    if dependent is not None:
                        found[dependent_id] = dependent
                        work.append(dependent_id)
        return list(found.values())

    def _check_new_edges(self, task_id: str, edges: Sequence[Dependency]) -> None:
        """Refuse unknown dependencies and any that would close a cycle."""
        for index, edge in enumerate(edges):
            if self._peek(edge.task_id) is None:
                raise InvalidArgument(
                    f"depends_on[{index}].task_id", f"task {edge.task_id} not found."
                )

        def depends_on(node: str) -> list[str]:
            found = self._peek(node)
            return [d.task_id for d in found.depends_on] if found else []

        cycle = find_cycle(task_id, [e.task_id for e in edges], depends_on)
        if cycle is not None:
            raise InvalidArgument(
                "depends_on",
                f"would form a cycle of {len(cycle) - 1} task(s): "
                + cycle_text(cycle)
                + " (each depends on the next).",
            )

    def _check_workflow_keys(self, specs: Sequence[TaskSpec]) -> None:
        """Refuse a workflow task whose idempotency key is already taken.

        A task of a workflow cannot be another workflow's or a lone task, so
        a reused key is refused rather than answered with the earlier task.
        """
        seen: dict[str, int] = {}
        for index, spec in enumerate(specs):
            key = spec.idempotency_key
            if not key:
                continue
            field = f"tasks[{index}].idempotency_key"
            if key in seen:
                raise InvalidArgument(
                    field, f"{key[:64]!r} is also the key of tasks[{seen[key]}]."
                )
            seen[key] = index
            existing = self._idempotent(key)
            if existing is not None:
                raise AlreadyExists(
                    f"{field}: {key[:64]!r} was already used for task "
                    f"{existing.id}; nothing was created."
                )

    def _check_dependencies(
        self,
        specs: Sequence[TaskSpec],
        batch_ids: Sequence[str],
        *,
        prefix: bool = False,
    ) -> None:
        """Refuse dependencies on tasks that do not exist, before anything changes."""
        known = set(batch_ids)
        for position, spec in enumerate(specs):
            for index, edge in enumerate(spec.depends_on):
                if edge.task_id in known or self._peek(edge.task_id) is not None:
                    continue
                field = f"depends_on[{index}].task_id"
                error = InvalidArgument(field, f"task {edge.task_id} not found.")
                if prefix or len(specs) > 1:
                    error = error.within(f"tasks[{position}]")
                raise error

    def _idempotent(self, key: str) -> Task | None:
        if not key:
            return None
        task_id = self._idempotency.get(key)
        if task_id is None:
            raw = self._store.get("idx_idem", key.encode())
            if raw is None:
                return None
            task_id = k.uid_text(raw)
        return self._peek(task_id)

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
            self._check_open(project_id)

    def _check_open(self, project_id: str) -> None:
        if project_id in self._closed_projects:
            raise FailedPrecondition(f"Project {project_id} is being deleted.")

    def _project_task_ids(self, project_id: str) -> list[str]:
        ids = [
            k.uid_text(v) for _, v in self._scan_all("idx_project", k.uid(project_id))
        ]
        ids += [t.id for t in self._live.values() if t.project_id == project_id]
        return list(dict.fromkeys(ids))

    def _count(self, task: Task, delta: int) -> None:
        """Add delta to the counts of task's status, overall and in its project."""
        self._counts[task.status] += delta
        if task.project_id:
            counts = self._project_counts.setdefault(task.project_id, Counter())
            counts[task.status] += delta
            if delta < 0 and not any(counts.values()):
                del self._project_counts[task.project_id]

    def _count_projects(self) -> None:
        """Count every project's tasks per status from the project index."""
        self._project_counts.clear()
        for key, _ in self._scan_all("idx_project_status", b""):
            project_id, status = k.uid_text(key[:16]), TaskStatus(key[16])
            self._project_counts.setdefault(project_id, Counter())[status] += 1

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


def _runnable(task: Task) -> bool:
    """Whether the scheduler may run a pending task's command now."""
    if not task.command:
        return False
    return task.development is None or task.development.test_due


def _testing_note(development: Development) -> str:
    run = development.test_run
    ran = "" if run is None else f"; test run exit code {run.exit_code}"
    return f"{ran}; coverage {development.coverage:g}%"


def _never_text(
    task: Task, blocker: Task | str | None, condition: Condition | None
) -> str:
    """Why a task cannot run: the dependency whose condition can never hold."""
    assert condition is not None
    if isinstance(blocker, Task):
        return unmet_reason(blocker, condition)
    return f"{UNMET_PREFIX}{blocker} was deleted"


def _resolved() -> Future[None]:
    """A future that has already resolved, for a change with nothing to write."""
    done: Future[None] = Future()
    done.set_result(None)
    return done


def _add_count(source: Future[int], count: int, target: Future[int]) -> None:
    """Settle target as source settled, with count added to its answer."""
    error = source.exception()
    if error is None:
        target.set_result(source.result() + count)
    else:
        target.set_exception(error)


def _all_done(futures: Sequence[Future[Any]]) -> Future[None]:
    """A future that resolves once every one of futures has, errors ignored."""
    done: Future[None] = Future()
    left = [len(futures)]
    lock = threading.Lock()

    def one(_: Future[object]) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            done.set_result(None)

    if not futures:
        done.set_result(None)
    for future in futures:
        future.add_done_callback(one)
    return done
