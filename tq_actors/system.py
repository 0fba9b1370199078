"""Start the actors in dependency order, stop them in reverse, and serve reads.

``TaskQueueSystem`` is what the gRPC layer talks to: requests that change
state go to the owning actor and return a future of the durable result;
reads go straight to the store, which only holds committed state.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tq_actors import defaults, devflow, graph, validate
from tq_actors.actor import Handle
from tq_actors.errors import InvalidArgument, NotFound, ProjectNotFound, TaskNotFound
from tq_actors.events import EventBusActor, Subscriber
from tq_actors.logs import LogFiles
from tq_actors.models import (
    Activity,
    Dependency,
    Development,
    LogChunk,
    Phase,
    Priority,
    Project,
    ProjectChanges,
    ProjectSpec,
    Review,
    Stats,
    Task,
    TaskChanges,
    TaskEvent,
    TaskSpec,
    TaskStatus,
    Totals,
    Workflow,
    WorkflowSpec,
    WorkflowView,
    evolve,
)
from tq_actors.projects import ProjectActor
from tq_actors.records import TRACKING_ONLY
from tq_actors.runner import RunnerActor
from tq_actors.scheduler import SchedulerActor
from tq_actors.store import Store
from tq_actors.store import keys as k
from tq_actors.store.codec import (
    decode_brief,
    decode_event,
    decode_outline,
    decode_project,
    decode_task,
    decode_workflow,
)
from tq_actors.tasks import TaskActor

logger = logging.getLogger(__name__)

_MAX_SCANNED_PER_PAGE = 20_000


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """Everything the actors need; the server's settings fill it in."""

    log_dir: Path
    slots: int = defaults.SLOTS
    kill_grace_seconds: float = defaults.KILL_GRACE_SECONDS
    log_cap_bytes: int = defaults.LOG_CAP_BYTES
    base_env: Mapping[str, str] = field(default_factory=dict)


class _Explained(graph.Named, Protocol):
    """A task or its outline, as far as why it waits is worked out."""

    @property
    def depends_on(self) -> tuple[Dependency, ...]: ...
    @property
    def command(self) -> str: ...
    @property
    def start_after(self) -> float | None: ...
    @property
    def retry_at(self) -> float | None: ...
    @property
    def development(self) -> Development | None: ...


class TaskQueueSystem:
    """The running actors, and the one door adapters use to reach them."""

    def __init__(self, store: Store, config: SystemConfig) -> None:
        self.store = store
        self.config = config
        # Deletes of one project run one at a time (see delete_project).
        self._deletes_guard = threading.Lock()
        self._deletes: dict[str, tuple[threading.Lock, int]] = {}
        self.logs = LogFiles(config.log_dir, cap_bytes=config.log_cap_bytes)
        self._bus = Handle(EventBusActor.start())
        self._scheduler = Handle(SchedulerActor.start(slots=config.slots))
        self._runner = Handle(
            RunnerActor.start(
                logs=self.logs,
                base_env=config.base_env,
                grace_seconds=config.kill_grace_seconds,
            )
        )
        self._tasks = Handle(TaskActor.start(store=store, logs=self.logs))
        self._projects = Handle(
            ProjectActor.start(store=store, scheduler=self._scheduler, bus=self._bus)
        )
        self._scheduler.tell("bind", self._tasks)
        self._runner.tell("bind", self._tasks, self._scheduler)
        self._tasks.tell("bind", self._scheduler, self._runner, self._bus)
        try:
            # Project limits and holds must reach the scheduler before the
            # recovered tasks do: wait until the project actor has loaded.
            self._projects.ask("count").result()
            interrupted = self._tasks.ask("recover").result()
        except BaseException:
            self._stop_actors()
            raise
        logger.info(
            "Task queue: started with %d slots; %d interrupted task(s) failed",
            config.slots,
            interrupted,
        )

    def stop(self) -> None:
        """Stop every actor (ending runs) and close the store."""
        self._stop_actors()
        self.store.close()
        logger.info("Task queue: stopped")

    def _stop_actors(self) -> None:
        for handle in (
            self._projects,
            self._tasks,
            self._runner,
            self._scheduler,
            self._bus,
        ):
            handle.stop()

    # -- tasks ------------------------------------------------------------

    def create_tasks(self, specs: Sequence[TaskSpec]) -> Future[list[Task]]:
        """Validate and create tasks in one atomic write."""
        if len(specs) > defaults.MAX_BATCH_TASKS:
            raise InvalidArgument(
                "tasks", f"at most {defaults.MAX_BATCH_TASKS} tasks per batch."
            )
        checked = []
        for index, spec in enumerate(specs):
            try:
                checked.append(validate.task_spec(spec))
            except InvalidArgument as exc:
                if len(specs) == 1:
                    raise
                raise exc.within(f"tasks[{index}]") from None
        return self._tasks.ask("create", checked)

    def get_task(self, task_id: str) -> Task:
        """Return a task's committed state, with why it waits if it does."""
        return self.explain([self._stored_task(task_id)])[0]

    def _stored_task(self, task_id: str) -> Task:
        task_id = validate.task_id(task_id)
        raw = self.store.get("tasks", k.uid(task_id))
        if raw is None:
            raise TaskNotFound(task_id)
        return decode_task(raw)

    def explain(self, tasks: list[Task]) -> list[Task]:
        """Fill in ``blocked_by`` of each task that waits, and the guidance of
        each task under the development workflow. Blocks briefly."""
        tasks = self._guide(tasks)
        reasons = self._reasons(tasks)
        if not reasons:
            return tasks
        return [
            evolve(t, blocked_by=reasons[t.id]) if reasons.get(t.id) else t
            for t in tasks
        ]

    def _reasons(self, tasks: Sequence[_Explained]) -> dict[str, str]:
        """Return why each task that is not running yet waits, by id."""
        now = time.time()
        # A workflow's tasks mostly wait for each other: read each once.
        known = {task.id: task for task in tasks}
        reasons: dict[str, str] = {}
        queued: list[str] = []
        for task in tasks:
            development = task.development
            if (
                development is not None
                and not development.test_due
                and not task.status.terminal
                and task.status is not TaskStatus.RUNNING
            ):
                reasons[task.id] = (
                    f"development workflow in {development.phase.label}: "
                    "runs only as the test run of the testing phase"
                )
            elif task.status is TaskStatus.WAITING_FOR_DEPENDENCIES:
                reasons[task.id] = self._awaited(task, known)
            elif task.status is not TaskStatus.PENDING:
                continue
            elif not task.command:
                reasons[task.id] = TRACKING_ONLY
            elif task.retry_at is not None and task.retry_at > now:
                reasons[task.id] = (
                    f"next attempt after a failure at {_iso(task.retry_at)}"
                )
            elif task.start_after is not None and task.start_after > now:
                reasons[task.id] = f"start_after {_iso(task.start_after)} not reached"
            else:
                queued.append(task.id)
        if queued:
            reasons.update(self._scheduler.ask("why", queued).result(timeout=10))
        return reasons

    def _guide(self, tasks: list[Task]) -> list[Task]:
        if not any(t.development is not None for t in tasks):
            return tasks
        limits: dict[str, tuple[float, int]] = {}
        guided = []
        for task in tasks:
            if task.development is None:
                guided.append(task)
                continue
            if task.project_id not in limits:
                limits[task.project_id] = self._gate_limits(task.project_id)
            threshold, required = limits[task.project_id]
            guide = devflow.guide(task, threshold, required)
            guided.append(evolve(task, guide=guide))
        return guided

    def _gate_limits(self, project_id: str) -> tuple[float, int]:
        if project_id:
            raw = self.store.get("projects", k.uid(project_id))
            if raw is not None:
                project = decode_project(raw)
                return project.coverage_threshold, project.required_reviews
        return defaults.COVERAGE_THRESHOLD, defaults.REQUIRED_REVIEWS

    # -- the development workflow -----------------------------------------

    def advance_phase(
        self, task_id: str, from_phase: Phase | None = None
    ) -> Future[Task]:
        """Move a task's development workflow to its next phase (from from_phase)."""
        return self._tasks.ask(
            "dev_advance", validate.task_id(task_id, "task_id"), from_phase
        )

    def set_documentation(self, task_id: str, path: str) -> Future[Task]:
        """Record the technical documentation path of a task."""
        return self._tasks.ask(
            "dev_set_documentation",
            validate.task_id(task_id, "task_id"),
            validate.documentation_path(path),
        )

    def set_coverage(self, task_id: str, coverage: float) -> Future[Task]:
        """Record the test coverage (0 to 100) measured in testing."""
        validate.non_negative(coverage, "coverage_percentage", upper=100)
        return self._tasks.ask(
            "dev_set_coverage", validate.task_id(task_id, "task_id"), float(coverage)
        )

    def add_review(self, task_id: str, review: Review) -> Future[Task]:
        """Record an AI review of a task in ai_review."""
        return self._tasks.ask(
            "dev_add_review",
            validate.task_id(task_id, "task_id"),
            validate.review(review),
        )

    def fail_development(self, task_id: str, reason: str) -> Future[Task]:
        """End a task's development workflow as failed."""
        reason = validate.text(reason.strip(), "reason")
        return self._tasks.ask("dev_fail", validate.task_id(task_id, "task_id"), reason)

    def reopen_development(self, task_id: str) -> Future[Task]:
        """Take a failed or completed development workflow back to implementation."""
        return self._tasks.ask("dev_reopen", validate.task_id(task_id, "task_id"))

    def explain_view(self, view: WorkflowView) -> WorkflowView:
        """Fill in ``blocked_by`` of a workflow view's waiting tasks."""
        explained = self.explain([task for _, task in view.tasks])
        listed = tuple(
            (key, task) for (key, _), task in zip(view.tasks, explained, strict=True)
        )
        return dataclasses.replace(view, tasks=listed)

    def _awaited(self, task: _Explained, known: Mapping[str, graph.Named]) -> str:
        unknown = [d.task_id for d in task.depends_on if d.task_id not in known]
        read: dict[str, graph.Named] = {}
        if unknown:
            raws = self.store.get_many("tasks", [k.uid(i) for i in unknown])
            read = {i: decode_task(r) for i, r in zip(unknown, raws, strict=True) if r}
        for dependency in task.depends_on:
            found = known.get(dependency.task_id) or read.get(dependency.task_id)
            if found is not None and not found.status.terminal:
                return graph.waiting_reason(found, dependency.condition)
        return "dependencies met; about to be queued"

    def list_tasks(
        self,
        *,
        status: TaskStatus | None = None,
        project_id: str = "",
        priority: Priority | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[Task], str]:
        """Return one page of tasks in creation order, and the next token."""
        project_id = validate.optional_id(project_id, "project_id")
        if project_id and status is not None:
            self.get_project(project_id)
            cf, prefix = "idx_project_status", k.uid(project_id) + k.small(status)
        elif project_id:
            self.get_project(project_id)
            cf, prefix = "idx_project", k.uid(project_id)
        elif status is not None:
            cf, prefix = "idx_status", k.small(status)
        elif priority is not None:
            cf, prefix = "idx_priority", k.small(priority)
        else:
            cf, prefix = "idx_created", b""

        def wanted(task: Task) -> bool:
            return (status is None or task.status == status) and (
                priority is None or task.priority == priority
            )

        tasks, token = self._page(cf, prefix, wanted, page_size, page_token)
        return self.explain(tasks), token

    def update_task(self, task_id: str, changes: TaskChanges) -> Future[Task]:
        """Change a pending task."""
        return self._tasks.ask(
            "update", validate.task_id(task_id), validate.task_changes(changes)
        )

    def delete_task(self, task_id: str, *, cascade: bool = False) -> Future[list[str]]:
        """Delete a task that is not running; with cascade, its dependents too."""
        return self._tasks.ask("delete", validate.task_id(task_id), cascade)

    def cancel_task(self, task_id: str, reason: str) -> Future[Task]:
        """Cancel a task; a running one once its process group has ended."""
        reason = validate.text(reason.strip(), "reason")
        return self._tasks.ask("cancel", validate.task_id(task_id), reason)

    def retry_task(self, task_id: str) -> Future[Task]:
        """Run a settled task again as a new attempt."""
        return self._tasks.ask("retry", validate.task_id(task_id))

    def history(self, task_id: str) -> list[TaskEvent]:
        """Return a task's transitions, oldest first."""
        task = self._stored_task(task_id)
        items = self.store.scan("events", k.uid(task.id), limit=1 << 30)
        return [decode_event(raw) for _, raw in items]

    def read_log(self, task_id: str, offset: int, max_bytes: int) -> LogChunk:
        """Return a slice of a task's output."""
        if offset < 0:
            raise InvalidArgument("offset", "must not be negative.")
        if max_bytes < 0:
            raise InvalidArgument("max_bytes", "must not be negative.")
        max_bytes = min(
            max_bytes or defaults.MAX_LOG_READ_BYTES, defaults.MAX_LOG_READ_BYTES
        )
        task = self._stored_task(task_id)
        # A tracking-only task never writes output: its log is complete.
        ended = task.status.terminal or not task.command
        return self.logs.read(task.id, offset, max_bytes, ended=ended)

    def subscribe(self, subscriber: Subscriber, *, server_events: bool = False) -> int:
        """Deliver every committed event batch to subscriber. Blocks briefly.

        With server_events, project and queue changes (``ServerEvent``) too.
        """
        token: int = self._bus.ask("subscribe", subscriber, server_events).result()
        return token

    def activity(self, max_events: int = 0) -> Activity:
        """Return finishes per minute over the last hour and the latest events.

        max_events: 0 means 50; more than 500 is cut to 500.
        """
        if max_events < 0:
            raise InvalidArgument("max_events", "must not be negative.")
        wanted = min(max_events or 50, defaults.RECENT_EVENTS_KEPT)
        activity: Activity = self._bus.ask("activity", wanted).result()
        return activity

    def project_counts(
        self, project_ids: Sequence[str]
    ) -> Future[dict[str, dict[str, int]]]:
        """Return each project's tasks per status label, counted in memory."""
        return self._tasks.ask("project_counts", list(project_ids))

    def unsubscribe(self, token: int) -> None:
        """Stop delivering events to a subscriber."""
        self._bus.tell("unsubscribe", token)

    def stats(self) -> Stats:
        """Return server-wide counters. Blocks briefly."""
        totals = self._tasks.ask("totals")
        scheduled = self._scheduler.ask("stats")
        projects = self._projects.ask("count")
        queued, running, slots, paused = scheduled.result()
        counted: Totals = totals.result()
        return Stats(
            tasks_by_status=counted.tasks_by_status,
            total_projects=projects.result(),
            queue_depth=queued,
            running=running,
            slots=slots,
            totals=counted,
            paused=paused,
        )

    def set_paused(self, paused: bool) -> Future[bool]:
        """Pause or resume dispatching of new tasks."""
        return self._tasks.ask("set_paused", paused)

    # -- workflows --------------------------------------------------------

    def create_workflow(self, spec: WorkflowSpec) -> Future[WorkflowView]:
        """Validate a workflow as a DAG and store it with its tasks in one write."""
        checked, order = validate.workflow_spec(spec)
        created: Future[tuple[Workflow, tuple[tuple[str, Task], ...]]] = (
            self._tasks.ask("create_workflow", checked, order)
        )
        view: Future[WorkflowView] = Future()

        def ready(done: Future[tuple[Workflow, tuple[tuple[str, Task], ...]]]) -> None:
            error = done.exception()
            if error is not None:
                view.set_exception(error)
                return
            workflow, tasks = done.result()
            status, progress = graph.workflow_status([t for _, t in tasks])
            view.set_result(WorkflowView(workflow, status, progress, tasks))

        created.add_done_callback(ready)
        return view

    def get_workflow(self, workflow_id: str, *, basic: bool = False) -> WorkflowView:
        """Return a workflow with its tasks and derived status.

        With ``basic``, the tasks come as outlines: a few fields each, read
        and converted in about a quarter of the time of a full read.
        """
        workflow = self._stored_workflow(workflow_id)
        if basic:
            return self._outline_view(workflow)
        return self._workflow_view(workflow, tasks=True)

    def list_workflows(
        self, *, project_id: str = "", page_size: int = 0, page_token: str = ""
    ) -> tuple[list[WorkflowView], str]:
        """Return one page of workflows (without their tasks), and the next token."""
        project_id = validate.optional_id(project_id, "project_id")
        if project_id:
            self.get_project(project_id)
        size = _page_size(page_size)
        after = _after(b"", page_token)
        found: list[WorkflowView] = []
        scanned = 0
        while len(found) < size and scanned < _MAX_SCANNED_PER_PAGE:
            items = self.store.scan(
                "idx_workflows", b"", after=after, limit=size - len(found)
            )
            if not items:
                return found, ""
            scanned += len(items)
            after = items[-1][0]
            for raw in self.store.get_many("workflows", [v for _, v in items]):
                if raw is None:
                    continue
                workflow = decode_workflow(raw)
                if not project_id or workflow.project_id == project_id:
                    found.append(self._workflow_view(workflow, tasks=False))
        more = self.store.scan("idx_workflows", b"", after=after, limit=1)
        return found, str(k.read_u64(after)) if more and after else ""

    def cancel_workflow(self, workflow_id: str, reason: str) -> Future[None]:
        """Cancel a workflow's unfinished tasks; resolves once runs have ended."""
        workflow = self._stored_workflow(workflow_id)
        reason = validate.text(reason.strip(), "reason")
        return self._tasks.ask("cancel_workflow", workflow.id, reason)

    def retry_workflow(self, workflow_id: str) -> Future[int]:
        """Run a workflow's failed and cancelled tasks again, with what they gate."""
        workflow = self._stored_workflow(workflow_id)
        return self._tasks.ask("retry_workflow", workflow.id)

    def _stored_workflow(self, workflow_id: str) -> Workflow:
        workflow_id = validate.task_id(workflow_id)
        raw = self.store.get("workflows", k.uid(workflow_id))
        if raw is None:
            raise NotFound(f"Workflow {workflow_id} not found.")
        return decode_workflow(raw)

    def _workflow_view(self, workflow: Workflow, *, tasks: bool) -> WorkflowView:
        raws = self.store.get_many("tasks", [k.uid(t) for t in workflow.task_ids])
        if not tasks:
            # TODO: a list still reads every task of every listed workflow;
            # per-workflow counts kept on each transition would make it O(1).
            briefs = [decode_brief(raw) for raw in raws if raw is not None]
            return WorkflowView(workflow, *graph.workflow_status(briefs))
        pairs = [
            (key, decode_task(raw))
            for key, raw in zip(workflow.keys, raws, strict=True)
            if raw is not None
        ]
        status, progress = graph.workflow_status([t for _, t in pairs])
        return self.explain_view(WorkflowView(workflow, status, progress, tuple(pairs)))

    def _outline_view(self, workflow: Workflow) -> WorkflowView:
        raws = self.store.get_many("tasks", [k.uid(t) for t in workflow.task_ids])
        pairs = [
            (key, decode_outline(raw))
            for key, raw in zip(workflow.keys, raws, strict=True)
            if raw is not None
        ]
        status, progress = graph.workflow_status([o for _, o in pairs])
        reasons = self._reasons([o for _, o in pairs])
        outlines = tuple(
            (key, evolve(o, blocked_by=reasons[o.id]) if reasons.get(o.id) else o)
            for key, o in pairs
        )
        return WorkflowView(workflow, status, progress, outlines=outlines)

    # -- projects ---------------------------------------------------------

    def create_project(self, spec: ProjectSpec) -> Future[Project]:
        """Validate and store a new project."""
        return self._projects.ask("create", validate.project_spec(spec))

    def get_project(self, project_id: str) -> Project:
        """Return a project's committed state."""
        project_id = validate.task_id(project_id)
        raw = self.store.get("projects", k.uid(project_id))
        if raw is None:
            raise ProjectNotFound(project_id)
        return decode_project(raw)

    def list_projects(
        self, *, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[Project], str]:
        """Return one page of projects in creation order, and the next token."""
        size = _page_size(page_size)
        after = _after(b"", page_token)
        items = self.store.scan("idx_projects", b"", after=after, limit=size + 1)
        raws = self.store.get_many("projects", [v for _, v in items[:size]])
        projects = [decode_project(raw) for raw in raws if raw]
        token = str(k.read_u64(items[size - 1][0])) if len(items) > size else ""
        return projects, token

    def update_project(
        self, project_id: str, changes: ProjectChanges
    ) -> Future[Project]:
        """Change a project."""
        project_id = validate.task_id(project_id)
        if changes.name is not None:
            changes = _replace(changes, name=validate.name(changes.name))
        if changes.parent_id:
            changes = _replace(
                changes, parent_id=validate.task_id(changes.parent_id, "parent_id")
            )
        if changes.max_parallel is not None:
            validate.non_negative(changes.max_parallel, "max_parallel", 10_000)
        if changes.coverage_threshold is not None:
            validate.non_negative(changes.coverage_threshold, "coverage_threshold", 100)
        if changes.required_reviews is not None:
            validate.non_negative(changes.required_reviews, "required_reviews", 100)
        if changes.tags is not None:
            changes = _replace(changes, tags=validate.tags(changes.tags))
        if changes.description is not None:
            validate.text(changes.description, "description")
        return self._projects.ask("update", project_id, changes)

    def delete_project(self, project_id: str, *, cascade: bool) -> int:
        """Delete a project; with cascade, its tasks first. Blocks.

        Returns how many tasks were deleted with it.
        """
        project_id = validate.task_id(project_id)
        # One at a time per project: a second delete racing the first would
        # share its tasks, answer part of the count or see tasks the first
        # has not deleted yet. It waits, then finds no project.
        with self._deleting(project_id):
            project = self.get_project(project_id)
            if not cascade:
                has_tasks = self._has_tasks(project.id)
                self._projects.ask("delete", project.id, has_tasks).result()
                return 0
            # Refuse before any task goes (a cascade ends runs for good), and
            # let no child project appear while the tasks go.
            self._projects.ask("close", project.id).result()
            try:
                removed: int = self._tasks.ask(
                    "delete_project_tasks", project.id
                ).result()
                has_tasks = self._has_tasks(project.id)
                self._projects.ask("delete", project.id, has_tasks).result()
            finally:
                self._tasks.tell("open_project", project.id)
                self._projects.tell("reopen", project.id)
            return removed

    def _has_tasks(self, project_id: str) -> bool:
        return bool(self.store.scan("idx_project", k.uid(project_id), limit=1))

    @contextmanager
    def _deleting(self, project_id: str) -> Iterator[None]:
        with self._deletes_guard:
            lock, users = self._deletes.get(project_id, (threading.Lock(), 0))
            self._deletes[project_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._deletes_guard:
                lock, users = self._deletes[project_id]
                if users == 1:
                    del self._deletes[project_id]
                else:
                    self._deletes[project_id] = (lock, users - 1)

    def list_project_tasks(
        self,
        project_id: str,
        *,
        status: TaskStatus | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[Task], str]:
        """Return one page of a project's tasks."""
        project = self.get_project(project_id)
        return self.list_tasks(
            project_id=project.id,
            status=status,
            page_size=page_size,
            page_token=page_token,
        )

    def _page(
        self,
        cf: str,
        prefix: bytes,
        wanted: Callable[[Task], bool],
        page_size: int,
        page_token: str,
    ) -> tuple[list[Task], str]:
        size = _page_size(page_size)
        after = _after(prefix, page_token)
        found: list[Task] = []
        scanned = 0
        while len(found) < size and scanned < _MAX_SCANNED_PER_PAGE:
            items = self.store.scan(cf, prefix, after=after, limit=size - len(found))
            if not items:
                return found, ""
            scanned += len(items)
            after = items[-1][0]
            raws = self.store.get_many("tasks", [v for _, v in items])
            found.extend(t for t in map(_decode_or_none, raws) if t and wanted(t))
        more = self.store.scan(cf, prefix, after=after, limit=1)
        return found, str(k.read_u64(after)) if more and after else ""


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def _decode_or_none(raw: bytes | None) -> Task | None:
    return decode_task(raw) if raw else None


def _page_size(page_size: int) -> int:
    if page_size < 0:
        raise InvalidArgument("page_size", "must not be negative.")
    return min(page_size or defaults.PAGE_SIZE, defaults.MAX_PAGE_SIZE)


def _after(prefix: bytes, page_token: str) -> bytes | None:
    if not page_token:
        return None
    if not (page_token.isascii() and page_token.isdigit()) or len(page_token) > 20:
        raise InvalidArgument("page_token", "is not a token this server issued.")
    seq = int(page_token)
    if seq >= 1 << 64:
        raise InvalidArgument("page_token", "is not a token this server issued.")
    return prefix + k.u64(seq)


def _replace(changes: ProjectChanges, **values: Any) -> ProjectChanges:
    return dataclasses.replace(changes, **values)
