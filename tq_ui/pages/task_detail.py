"""/ui/tasks/{id}: one task, its history, its development workflow and its log."""

from __future__ import annotations

import asyncio
import codecs
import logging
from typing import Any

import grpc
from fastapi import Request
from nicegui import Client, ui
from starlette.responses import Response

from tq_grpc._gen import development_pb2, projects_pb2, tasks_pb2
from tq_ui import text
from tq_ui.backend import Api, UiError
from tq_ui.dashboard import Dashboard
from tq_ui.hub import Change
from tq_ui.live import Refresher, follow
from tq_ui.pages import actions, shell
from tq_ui.pages.development import DevelopmentActions
from tq_ui.pages.task_edit import open_edit_dialog

logger = logging.getLogger(__name__)

TAIL_BYTES = 64 * 1024
LOG_LINES = 1_000
PARTIAL_LINE_LIMIT = 4 * 1024
MAX_DEPENDENCIES_SHOWN = 50


def register(dashboard: Dashboard) -> None:
    """Add the task page."""

    @ui.page(
        "/ui/tasks/{task_id}",
        title="Task · Task Queue",
        response_timeout=shell.BUILD_SECONDS,
    )
    async def task_page(
        request: Request, client: Client, task_id: str
    ) -> Response | None:
        context = shell.enter(dashboard, request, client)
        if isinstance(context, Response):
            return context
        with shell.frame(context, "Tasks"):
            view = TaskView(context, task_id)
            await view.build()
        return None


class TaskView:
    """Everything about one task, kept current by its events."""

    def __init__(self, context: shell.PageContext, task_id: str) -> None:
        self.context = context
        self.api = context.api
        self.task_id = task_id
        self.task: tasks_pb2.Task | None = None
        self.dependency_ids: set[str] = set()
        self.log: LogTail | None = None
        self.project_name = ""

    async def build(self) -> None:
        """Draw the page from the task as it is now."""
        self.errors = shell.ErrorBanner()
        self.refresher = Refresher(self.context.client, self.refresh)
        follow(self.context.client, self.context.hub, self._on_change)
        try:
            task = await self._get()
        except UiError as exc:
            if exc.code is grpc.StatusCode.NOT_FOUND:
                ui.label(f"No task {self.task_id}.").classes("text-h6")
                ui.link("All tasks", "/ui/tasks")
                return
            self.errors.show(exc)
            return
        self.task = task
        self.project_name = await self._project_name(task.project_id)
        self._draw_header(task)
        self._draw_cards()
        await self._show(task)
        await self._show_history()
        self.context.client.on_delete(self.log.stop)
        await self.log.start(text.status_name(task.status))
        self.refresher.start()

    def _draw_header(self, task: tasks_pb2.Task) -> None:
        with ui.row().classes("w-full items-center gap-3"):
            ui.link("Tasks", "/ui/tasks").classes("text-grey-8")
            ui.icon("chevron_right", color="grey-7")
            self.title = (
                ui.label(task.name).classes("text-h5").props("data-testid=task-name")
            )
            self.badge = ui.badge("", color="grey-5").classes("text-body1 q-px-sm")
            self.badge.props("data-testid=task-status")
            self.priority = ui.badge("", color="grey-5").props("outline")
            ui.space()
            ui.button("Edit", icon="edit", on_click=self._edit).props(
                "outline data-testid=task-edit"
            )
            self.cancel_button = ui.button(
                "Cancel", icon="cancel", color="negative", on_click=self._cancel
            ).props("data-testid=task-cancel")
            self.retry_button = ui.button("Retry", icon="replay", on_click=self._retry)
            self.retry_button.props("data-testid=task-retry")
            ui.button(
                "Delete", icon="delete", color="grey-8", on_click=self._delete
            ).props("flat data-testid=task-delete")
        self.blocked = (
            ui.label("")
            .classes(
                "text-body1 text-amber-10 bg-amber-1 q-pa-sm rounded-borders w-full"
            )
            .props("data-testid=task-blocked-by")
        )

    def _draw_cards(self) -> None:
        with ui.row().classes("w-full items-start gap-4 no-wrap"):
            with ui.column().classes("w-1/2 gap-4"):
                with ui.card().classes("w-full"):
                    shell.section("Details")
                    self.details = ui.grid(columns="auto 1fr").classes(
                        "w-full gap-x-6 gap-y-1"
                    )
                with ui.card().classes("w-full"):
                    shell.section("Depends on")
                    self.dependencies = ui.column().classes("gap-1")
                with ui.card().classes("w-full") as self.development_card:
                    self.development_body = ui.column().classes("w-full gap-2")
                    self.development_actions = DevelopmentActions(
                        self.api, self.task_id, self.refresh
                    )
            with ui.column().classes("w-1/2 gap-4"):
                with ui.card().classes("w-full"):
                    with ui.row().classes("w-full items-center"):
                        shell.section("Log")
                        ui.space()
                        self.log_note = ui.label("").classes("text-caption text-grey-7")
                    log = ui.log(max_lines=LOG_LINES).classes(
                        "w-full h-96 text-caption"
                    )
                    log.props("data-testid=task-log")
                    self.log = LogTail(self.api, self.task_id, log, self.log_note)
                with ui.card().classes("w-full"):
                    shell.section("History")
                    self.history = ui.column().classes("w-full")

    async def _get(self) -> tasks_pb2.Task:
        answer = await self.api.call(
            self.api.tasks.GetTask, tasks_pb2.GetTaskRequest(id=self.task_id)
        )
        return answer.task

    async def _project_name(self, project_id: str) -> str:
        if not project_id:
            return ""
        try:
            answer = await self.api.call(
                self.api.projects.GetProject,
                projects_pb2.GetProjectRequest(id=project_id),
            )
        except UiError:
            return project_id
        return answer.project.name

    def _on_change(self, change: Change) -> None:
        mine = [e for e in change.events if e.task_id == self.task_id]
        # Until the task is read, any event may matter (its dependencies').
        waiting = self.task is None or text.status_name(self.task.status) not in (
            text.TERMINAL | {"running"}
        )
        relevant = (
            change.resync
            or mine
            or any(e.task_id in self.dependency_ids for e in change.events)
            # What holds a waiting task back (slots, limits) moves with others.
            or (waiting and change.events)
        )
        if mine and self.log is not None:
            for event in mine:
                if text.status_name(event.to_status) == "running":
                    self.log.resume()
        if relevant:
            self.refresher.poke()

    async def refresh(self) -> None:
        """Read the task and its history again."""
        try:
            task = await self._get()
        except UiError as exc:
            if exc.code is grpc.StatusCode.NOT_FOUND:
                self.errors.show(UiError(exc.code, "This task was deleted."))
                self.cancel_button.disable()
                self.retry_button.disable()
                return
            self.errors.show(exc)
            return
        self.errors.clear()
        changed = self.task is None or task.updated_at != self.task.updated_at
        self.task = task
        await self._show(task)
        if changed:
            await self._show_history()

    async def _show(self, task: tasks_pb2.Task) -> None:
        status = text.status_name(task.status)
        priority = text.priority_name(task.priority)
        self.title.set_text(task.name)
        self.badge.set_text(text.label(status))
        self.badge.props(f"color={text.STATUS_COLORS.get(status, 'grey-5')}")
        self.priority.set_text(priority)
        self.priority.props(f"color={text.PRIORITY_COLORS.get(priority, 'grey-5')}")
        self.cancel_button.set_visibility(status not in text.TERMINAL)
        self.retry_button.set_visibility(status in text.TERMINAL)
        self.blocked.set_text(
            f"Waiting for: {task.blocked_by}" if task.blocked_by else ""
        )
        self.blocked.set_visibility(bool(task.blocked_by))
        self._show_details(task)
        await self._show_dependencies(task)
        self._show_development(task)

    def _show_details(self, task: tasks_pb2.Task) -> None:
        rows: list[tuple[str, Any]] = [
            ("Id", task.id),
            ("Command", task.command or "(none: tracking only)"),
            ("Description", task.description),
            ("Project", task.project_id),
            ("Workflow", task.workflow_id),
            ("Status reason", task.status_reason),
            ("Attempt", task.attempt),
            ("Exit code", task.exit_code if task.HasField("exit_code") else ""),
            ("Process id", task.pid or ""),
            ("Created", text.when(task.created_at)),
            ("Updated", text.when(task.updated_at)),
            ("Started", text.when(task.started_at)),
            ("Finished", text.when(task.finished_at)),
            ("Run time", text.run_time(task)),
            ("Start after", text.when(task.start_after)),
            ("Retry at", text.when(task.retry_at)),
            (
                "Timeout",
                f"{task.timeout_seconds} s" if task.timeout_seconds else "none",
            ),
            ("Max retries", task.max_retries),
            ("Retry delay", f"{task.retry_delay_seconds:g} s"),
            ("Working directory", task.working_dir),
            ("Environment", "\n".join(f"{k}={v}" for k, v in sorted(task.env.items()))),
            ("Tags", ", ".join(task.tags)),
            ("Idempotency key", task.idempotency_key),
            ("Development workflow", "yes" if task.development_workflow else "no"),
        ]
        self.details.clear()
        with self.details:
            for name, value in rows:
                if value in ("", None):
                    continue
                ui.label(name).classes("text-grey-7")
                if name == "Project":
                    ui.link(
                        self.project_name or str(value), f"/ui/tasks?project={value}"
                    )
                elif name == "Workflow":
                    ui.link(str(value), f"/ui/workflows/{value}")
                elif name in ("Command", "Environment"):
                    ui.label(str(value)).classes(
                        "font-mono whitespace-pre-wrap break-all"
                    )
                else:
                    ui.label(str(value)).classes("break-all").props(
                        f"data-testid=detail-{name.lower().replace(' ', '-')}"
                    )

    async def _show_dependencies(self, task: tasks_pb2.Task) -> None:
        self.dependency_ids = {d.task_id for d in task.depends_on}
        shown = list(task.depends_on)[:MAX_DEPENDENCIES_SHOWN]
        found = await asyncio.gather(
            *(self._dependency(d.task_id) for d in shown), return_exceptions=False
        )
        self.dependencies.clear()
        with self.dependencies:
            if not task.depends_on:
                ui.label("Nothing").classes("text-grey-7")
            for dependency, other in zip(shown, found, strict=True):
                with ui.row().classes("items-center gap-2"):
                    condition = text.condition_name(dependency.condition)
                    ui.badge(condition, color="grey-7").props("outline")
                    if other is None:
                        ui.label(f"{dependency.task_id} (deleted)").classes(
                            "text-grey-7"
                        )
                        continue
                    status = text.status_name(other.status)
                    ui.link(other.name, f"/ui/tasks/{other.id}")
                    shell.status_badge(text.label(status), text.STATUS_COLORS[status])
            if len(task.depends_on) > len(shown):
                ui.label(f"… and {len(task.depends_on) - len(shown)} more").classes(
                    "text-grey-7"
                )

    async def _dependency(self, task_id: str) -> tasks_pb2.Task | None:
        try:
            answer = await self.api.call(
                self.api.tasks.GetTask, tasks_pb2.GetTaskRequest(id=task_id)
            )
        except UiError:
            return None
        return answer.task

    def _show_development(self, task: tasks_pb2.Task) -> None:
        self.development_card.set_visibility(task.development_workflow)
        if not task.development_workflow:
            return
        body = self.development_body
        body.clear()
        with body:
            development_panel(task.development)
        self.development_actions.show(task.development)

    async def _show_history(self) -> None:
        try:
            answer = await self.api.call(
                self.api.tasks.GetTaskHistory,
                tasks_pb2.GetTaskHistoryRequest(id=self.task_id),
            )
        except UiError as exc:
            self.errors.show(exc)
            return
        self.history.clear()
        with self.history, ui.timeline(side="right", layout="dense").classes("w-full"):
            for event in reversed(answer.events):
                history_entry(event)

    def _name(self) -> str:
        return self.task.name if self.task is not None else self.task_id

    def _edit(self) -> None:
        if self.task is not None:
            open_edit_dialog(self.api, self.task, self.refresh)

    def _cancel(self) -> None:
        actions.ask_cancel(self.api, self.task_id, self._name(), self.refresh)

    async def _retry(self) -> None:
        await actions.retry(self.api, self.task_id, self._name(), self._after_retry)

    async def _after_retry(self) -> None:
        await self.refresh()
        if self.log is not None:
            self.log.resume()

    def _delete(self) -> None:
        actions.ask_delete(
            self.api, self.task_id, self._name(), lambda: ui.navigate.to("/ui/tasks")
        )


def history_entry(event: tasks_pb2.TaskEvent) -> None:
    """Draw one transition of a task's history."""
    to_status = text.status_name(event.to_status)
    title = text.change(event)
    if event.from_status == 0 and not event.deleted:
        title = f"created · {text.label(to_status)}"
    parts = []
    if event.reason:
        parts.append(event.reason)
    if event.attempt:
        parts.append(f"attempt {event.attempt}")
    if event.HasField("exit_code"):
        parts.append(f"exit code {event.exit_code}")
    if event.phase:
        parts.append(f"phase {text.label(text.phase_name(event.phase))}")
    ui.timeline_entry(
        " · ".join(parts),
        title=title,
        subtitle=text.when(event.at) + " UTC",
        color=text.STATUS_COLORS.get(to_status, "grey-5"),
    )


def development_panel(development: development_pb2.DevelopmentWorkflow) -> None:
    """Draw the phase, its gates and instructions, and the reviews."""
    shell.section("Development workflow")
    _phase_chips(text.phase_name(development.phase))
    if development.failure_reason:
        ui.label(f"Failed: {development.failure_reason}").classes("text-negative")
    if development.instructions:
        ui.label(development.instructions).classes(
            "whitespace-pre-wrap bg-blue-1 q-pa-sm rounded-borders w-full"
        ).props("data-testid=development-instructions")
    if development.unmet_gates:
        ui.label("Before the next phase:").classes("text-weight-medium")
        with ui.column().classes("gap-0").props("data-testid=development-gates"):
            for gate in development.unmet_gates:
                with ui.row().classes("items-center gap-1 no-wrap"):
                    ui.icon("block", color="orange-9")
                    ui.label(gate)
    if development.next_call:
        ui.label(f"Next MCP call: {development.next_call}").classes("text-grey-8")
    with ui.grid(columns="auto 1fr").classes("gap-x-6 gap-y-1"):
        for name, value in _development_facts(development):
            ui.label(name).classes("text-grey-7")
            ui.label(value)
    if development.ai_review_reports:
        rows = [
            {
                "model": r.model_name,
                "type": text.label(text.review_type_name(r.review_type)),
                "approved": "yes" if r.approved else "no",
                "score": f"{r.score:.2f}",
                "round": r.round,
                "content": r.content[:200],
            }
            for r in development.ai_review_reports
        ]
        ui.table(rows=rows, row_key="model").props("flat dense").classes("w-full")


def _phase_chips(phase: str) -> None:
    reached = text.PHASES.index(phase) if phase in text.PHASES else -1
    with ui.row().classes("items-center gap-1"):
        for index, name in enumerate(text.PHASES):
            if phase == "failed" or index > reached:
                color, icon, look = "grey-7", "radio_button_unchecked", " outline"
            elif index < reached or phase == "completed":
                color, icon, look = "green-7", "check_circle", ""
            else:
                color, icon, look = "primary", "play_circle", ""
            ui.chip(
                text.label(name),
                icon=icon,
                color=color,
                text_color=None if look else "white",
            ).props(
                f"dense square{look} data-testid=phase-{name}"
                + (" data-current=true" if index == reached else "")
            )
        if phase == "failed":
            ui.chip("failed", icon="error", color="red-7", text_color="white").props(
                "dense square data-testid=phase-failed data-current=true"
            )


def _development_facts(
    development: development_pb2.DevelopmentWorkflow,
) -> list[tuple[str, str]]:
    coverage = (
        f"{development.test_coverage_percentage:g}%"
        if development.HasField("test_coverage_percentage")
        else "not reported"
    )
    facts = [
        (
            "Technical documentation",
            development.technical_documentation_path or "not set",
        ),
        ("Test coverage", f"{coverage} (needs {development.coverage_threshold:g}%)"),
        ("Review round", str(development.review_round)),
        ("Reviews needed", str(development.required_reviews)),
    ]
    run = development.test_run
    if run.attempt or run.running:
        state = "running" if run.running else "ended"
        if run.HasField("exit_code"):
            state += f", exit code {run.exit_code}"
        facts.append(("Test run", f"attempt {run.attempt}, {state}"))
    return facts


class LogTail:
    """The last part of a task's log, then what it writes while it runs."""

    def __init__(self, api: Api, task_id: str, log: ui.log, note: ui.label) -> None:
        self.api = api
        self.task_id = task_id
        self.view = log
        self.note = note
        self.offset = 0
        self.size = 0
        self.truncated = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""
        self._following: asyncio.Task[None] | None = None

    async def start(self, status: str) -> None:
        """Show the tail of the log; follow it unless the task has ended."""
        await self._read_tail()
        if status not in text.TERMINAL:
            self.resume()

    def resume(self) -> None:
        """Follow the log again (the task started a run)."""
        if self._following is None or self._following.done():
            self._following = asyncio.create_task(self._follow(), name="ui-log")

    def stop(self) -> None:
        """Stop following (the page is gone)."""
        if self._following is not None:
            self._following.cancel()

    async def _read_tail(self) -> None:
        try:
            first = await self.api.call(
                self.api.tasks.ReadTaskLog,
                tasks_pb2.ReadTaskLogRequest(
                    id=self.task_id, offset=0, max_bytes=TAIL_BYTES
                ),
            )
            answer = first
            if first.size_bytes > first.next_offset:
                start = max(0, first.size_bytes - TAIL_BYTES)
                answer = await self.api.call(
                    self.api.tasks.ReadTaskLog,
                    tasks_pb2.ReadTaskLogRequest(
                        id=self.task_id, offset=start, max_bytes=TAIL_BYTES
                    ),
                )
                self.view.push(f"… {text.size(start)} of earlier output not shown")
                data = answer.data
                cut = data.find(b"\n")
                answer_data = data[cut + 1 :] if cut >= 0 else data
            else:
                answer_data = answer.data
        except UiError as exc:
            self.note.set_text(exc.message)
            return
        self.offset = answer.next_offset
        self.size = answer.size_bytes
        self.truncated = answer.truncated
        self._take(answer_data)
        self._describe()

    async def _follow(self) -> None:
        stream = self.api.stream(
            self.api.tasks.FollowTaskLog,
            tasks_pb2.FollowTaskLogRequest(id=self.task_id, offset=self.offset),
        )
        try:
            async for chunk in stream:
                self._take(chunk.data)
                self.offset = max(self.offset, chunk.offset + len(chunk.data))
                self.size = max(self.size, self.offset)
                self._describe()
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                self.note.set_text(UiError.from_rpc(exc).message)
        finally:
            stream.cancel()
        self._flush()

    def _take(self, data: bytes) -> None:
        if not data:
            return
        chunk = self._partial + self._decoder.decode(data)
        complete, newline, rest = chunk.rpartition("\n")
        if newline:
            self.view.push(complete)
            self._partial = rest
        else:
            self._partial = chunk
        if len(self._partial) > PARTIAL_LINE_LIMIT:
            self._flush()

    def _flush(self) -> None:
        if self._partial:
            self.view.push(self._partial)
            self._partial = ""

    def _describe(self) -> None:
        note = text.size(self.size) if self.size else "no output yet"
        if self.truncated:
            note += " · truncated at the size cap"
        self.note.set_text(note)
