"""/ui/tasks: one server-side page of tasks at a time, filtered by the server."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import Client, ui
from starlette.responses import Response

from tq_grpc._gen import system_pb2, tasks_pb2
from tq_ui import text
from tq_ui.backend import UiError
from tq_ui.dashboard import Dashboard
from tq_ui.forms import FormError, TagsInput, TaskForm
from tq_ui.live import watch
from tq_ui.pages import actions, shell, tables
from tq_ui.reads import all_projects, task_row

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
ALL = ""

COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left"},
    {"name": "status", "label": "Status", "field": "status_label", "align": "left"},
    {"name": "priority", "label": "Priority", "field": "priority", "align": "left"},
    {"name": "project", "label": "Project", "field": "project", "align": "left"},
    {"name": "command", "label": "Command", "field": "command", "align": "left"},
    {"name": "attempt", "label": "Attempt", "field": "attempt", "align": "right"},
    {"name": "exit_code", "label": "Exit", "field": "exit_code", "align": "right"},
    {"name": "created", "label": "Created (UTC)", "field": "created", "align": "left"},
    {"name": "run_time", "label": "Run time", "field": "run_time", "align": "right"},
    {
        "name": "blocked_by",
        "label": "Waiting for",
        "field": "blocked_by",
        "align": "left",
    },
    {"name": "actions", "label": "", "field": "id", "align": "right"},
]


def register(dashboard: Dashboard) -> None:
    """Add the task list page."""

    @ui.page(
        "/ui/tasks", title="Tasks · Task Queue", response_timeout=shell.BUILD_SECONDS
    )
    async def tasks_page(
        request: Request,
        client: Client,
        status: str = ALL,
        project: str = ALL,
        priority: str = ALL,
        size: int = DEFAULT_PAGE_SIZE,
    ) -> Response | None:
        context = shell.enter(dashboard, request, client)
        if isinstance(context, Response):
            return context
        with shell.frame(context, "Tasks"):
            view = TaskList(
                context, status=status, project=project, priority=priority, size=size
            )
            await view.build()
        return None


class TaskList:
    """The filters, one page of tasks, and the pager."""

    def __init__(
        self,
        context: shell.PageContext,
        *,
        status: str,
        project: str,
        priority: str,
        size: int,
    ) -> None:
        self.context = context
        self.api = context.api
        self.status = status if status in text.TASK_STATUSES else ALL
        self.priority = priority if priority in text.PRIORITIES else ALL
        self.project = project
        self.size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
        # tokens[i] is the page token of page i; the last one is shown.
        self.tokens: list[str] = [""]
        self.next_token = ""
        self.project_names: dict[str, str] = {}

    async def build(self) -> None:
        """Draw the page with its first page of tasks."""
        self.errors = shell.ErrorBanner()
        try:
            projects = await all_projects(self.api)
        except UiError as exc:
            self.errors.show(exc)
            projects = []
        self.project_names = {p.id: p.name for p in projects}
        if self.project and self.project not in self.project_names:
            self.project = ALL
        with ui.row().classes("w-full items-end gap-3"):
            ui.label("Tasks").classes("text-h5 q-mr-md")
            self.status_select = (
                ui.select(
                    {ALL: "any status"}
                    | {s: text.label(s) for s in text.TASK_STATUSES},
                    value=self.status,
                    label="Status",
                    on_change=self._filter,
                )
                .classes("w-48")
                .props("dense data-testid=filter-status")
            )
            self.project_select = (
                ui.select(
                    {ALL: "any project"} | self.project_names,
                    value=self.project,
                    label="Project",
                    on_change=self._filter,
                )
                .classes("w-48")
                .props("dense data-testid=filter-project")
            )
            self.priority_select = (
                ui.select(
                    {ALL: "any priority"} | {p: p for p in text.PRIORITIES},
                    value=self.priority,
                    label="Priority",
                    on_change=self._filter,
                )
                .classes("w-36")
                .props("dense data-testid=filter-priority")
            )
            self.size_select = (
                ui.select(
                    {n: f"{n} per page" for n in PAGE_SIZES},
                    value=self.size,
                    label="Page size",
                    on_change=self._filter,
                )
                .classes("w-32")
                .props("dense")
            )
            ui.space()
            ui.button(
                "New task",
                icon="add",
                on_click=lambda: open_create_dialog(self.context, self.project_names),
            ).props("data-testid=new-task")
        self.summary = (
            ui.label("").classes("text-grey-8").props("data-testid=task-summary")
        )
        self.table = tables.task_table(COLUMNS)
        self.table.on("cancel", lambda e: self._cancel(e.args))
        self.table.on("retry", lambda e: self._retry(e.args))
        self.table.on("delete", lambda e: self._delete(e.args))
        self.empty = ui.label("").classes("text-grey-7")
        with ui.row().classes("items-center gap-2"):
            self.previous = ui.button(
                "Previous", icon="chevron_left", on_click=self._previous
            )
            self.previous.props("flat data-testid=page-previous")
            self.page_label = ui.label("")
            self.following = ui.button("Next", on_click=self._next)
            self.following.props("flat icon-right=chevron_right data-testid=page-next")
        live = watch(self.context.client, self.context.hub, self.refresh, state=True)
        await self.refresh()
        live.start()

    def _request(self) -> tasks_pb2.ListTasksRequest:
        return tasks_pb2.ListTasksRequest(
            status=text.status_value(self.status) if self.status else 0,
            project_id=self.project,
            priority=text.priority_value(self.priority) if self.priority else 0,
            page_size=self.size,
            page_token=self.tokens[-1],
        )

    async def refresh(self) -> None:
        """Read the page shown now again, and the counts."""
        try:
            page, stats, projects = await asyncio.gather(
                self.api.call(self.api.tasks.ListTasks, self._request()),
                self.api.call(self.api.system.GetStats, system_pb2.GetStatsRequest()),
                all_projects(self.api),
            )
        except UiError as exc:
            self.errors.show(exc)
            return
        self.errors.clear()
        names = {p.id: p.name for p in projects}
        if names != self.project_names:
            self.project_names = names
            if self.project in names or self.project == ALL:
                self.project_select.set_options({ALL: "any project"} | names)
            else:  # the project filtered on was deleted
                self.project_select.set_options({ALL: "any project"} | names, value=ALL)
        self.next_token = page.next_page_token
        self.table.rows = [task_row(t, self.project_names) for t in page.tasks]
        self.table.update()
        self._show_counts(stats, len(page.tasks))

    def _show_counts(self, stats: system_pb2.GetStatsResponse, shown: int) -> None:
        number = len(self.tokens)
        first = (number - 1) * self.size
        if not self.project and not self.priority:
            total = (
                stats.tasks_by_status.get(self.status, 0)
                if self.status
                else stats.total_tasks
            )
            matching = f"{text.count(total)} matching"
        else:
            matching = "counts per project and priority are not available"
        if shown:
            self.summary.set_text(
                f"Showing {text.count(first + 1)} to {text.count(first + shown)} "
                f"in creation order · {matching}"
            )
        else:
            self.summary.set_text(matching)
        if shown:
            self.empty.set_text("")
        elif self.next_token:
            self.empty.set_text(
                "No match in this stretch of tasks (the server scans a bounded "
                "number per page); Next looks further."
            )
        else:
            self.empty.set_text("No tasks match.")
        self.page_label.set_text(f"Page {number}")
        self.previous.set_enabled(number > 1)
        self.following.set_enabled(bool(self.next_token))

    async def _filter(self) -> None:
        self.status = self.status_select.value or ALL
        self.project = self.project_select.value or ALL
        self.priority = self.priority_select.value or ALL
        self.size = self.size_select.value or DEFAULT_PAGE_SIZE
        self.tokens = [""]
        query = {
            k: v
            for k, v in (
                ("status", self.status),
                ("project", self.project),
                ("priority", self.priority),
                ("size", "" if self.size == DEFAULT_PAGE_SIZE else str(self.size)),
            )
            if v
        }
        ui.navigate.history.replace(
            "/ui/tasks" + (f"?{urlencode(query)}" if query else "")
        )
        await self.refresh()

    async def _next(self) -> None:
        if self.next_token:
            self.tokens.append(self.next_token)
            await self.refresh()

    async def _previous(self) -> None:
        if len(self.tokens) > 1:
            self.tokens.pop()
            await self.refresh()

    def _cancel(self, row: dict[str, Any]) -> None:
        actions.ask_cancel(self.api, row["id"], row["name"], self.refresh)

    async def _retry(self, row: dict[str, Any]) -> None:
        await actions.retry(self.api, row["id"], row["name"], self.refresh)

    def _delete(self, row: dict[str, Any]) -> None:
        actions.ask_delete(self.api, row["id"], row["name"], self.refresh)


def open_create_dialog(
    context: shell.PageContext, project_names: dict[str, str]
) -> None:
    """Open the dialog that creates a task with any of its fields."""
    with ui.dialog() as dialog, ui.card().classes("w-full max-w-3xl"):
        ui.label("New task").classes("text-h6")
        with ui.grid(columns=2).classes("w-full gap-x-4 gap-y-1"):
            name = ui.input("Name *").props("data-testid=create-name autofocus")
            project = ui.select(
                {"": "no project"} | project_names, label="Project", value=""
            ).props("data-testid=create-project")
            command = ui.textarea("Command (run as /bin/sh -c; empty: tracking only)")
            command.classes("col-span-2").props(
                "data-testid=create-command autogrow input-class=font-mono"
            )
            description = ui.textarea("Description").classes("col-span-2")
            description.props("autogrow data-testid=create-description")
            priority = ui.select(
                list(text.PRIORITIES), label="Priority", value="normal"
            )
            priority.props("data-testid=create-priority")
            working_dir = ui.input("Working directory").props(
                "data-testid=create-working-dir"
            )
            depends_on = ui.textarea(
                "Depends on: one task id per line, optionally followed by "
                "success, failure or completion"
            ).classes("col-span-2")
            depends_on.props("autogrow data-testid=create-depends-on")
            env = ui.textarea("Environment: NAME=value per line").props(
                "autogrow input-class=font-mono data-testid=create-env"
            )
            tags = TagsInput("Tags (Enter after each)").props("data-testid=create-tags")
            timeout = ui.number("Timeout (s, 0: none)", min=0, precision=0)
            timeout.props("data-testid=create-timeout")
            retries = ui.number("Max retries", min=0, precision=0)
            retries.props("data-testid=create-max-retries")
            delay = ui.number("Retry delay (s, doubles per retry)", min=0)
            delay.props("data-testid=create-retry-delay")
            start_after = ui.input("Start after (UTC)").props(
                "type=datetime-local step=1 stack-label data-testid=create-start-after"
            )
            idempotency = ui.input("Idempotency key").props(
                "data-testid=create-idempotency-key"
            )
            development = ui.switch("Development workflow (gated phases)").props(
                "data-testid=create-development"
            )
        problem = (
            ui.label("").classes("text-negative").props("data-testid=create-error")
        )

        async def create() -> None:
            form = TaskForm(
                name=name.value or "",
                command=command.value or "",
                description=description.value or "",
                project_id=project.value or "",
                priority=priority.value or "normal",
                depends_on=depends_on.value or "",
                working_dir=working_dir.value or "",
                env=env.value or "",
                timeout_seconds=timeout.value,
                max_retries=retries.value,
                retry_delay_seconds=delay.value,
                start_after=start_after.value or "",
                tags=list(tags.value or []),
                idempotency_key=idempotency.value or "",
                development_workflow=bool(development.value),
            )
            try:
                spec = form.to_spec()
            except FormError as exc:
                problem.set_text(str(exc))
                return
            button.disable()
            try:
                answer = await context.api.call(
                    context.api.tasks.CreateTask, tasks_pb2.CreateTaskRequest(task=spec)
                )
            except UiError as exc:
                problem.set_text(exc.message)
                button.enable()
                return
            dialog.close()
            ui.notify(f"Created {answer.task.name}", type="positive")
            ui.navigate.to(f"/ui/tasks/{answer.task.id}")

        with ui.row().classes("w-full justify-end"):
            ui.button("Close", on_click=dialog.close).props("flat")
            button = ui.button("Create", icon="add", on_click=create)
            button.props("data-testid=create-submit")
    dialog.open()
