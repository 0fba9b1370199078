"""/ui/workflows and /ui/workflows/{id}: the list, and each workflow's graph."""

from __future__ import annotations

import grpc
from fastapi import Request
from nicegui import Client, ui
from starlette.responses import Response

from tq_grpc._gen import workflows_pb2
from tq_ui import graph, text
from tq_ui.backend import UiError
from tq_ui.dashboard import Dashboard
from tq_ui.hub import Change
from tq_ui.live import Refresher, follow, watch
from tq_ui.pages import shell, tables
from tq_ui.pages.actions import ask_reason
from tq_ui.pages.workflow_create import open_workflow_dialog
from tq_ui.reads import all_projects, task_row

PAGE_SIZE = 50
# Rows of the task table a page shows; a browser draws 100 rows in ~0.3 s.
TASKS_PER_PAGE = 25
# A big workflow is read again at most this often (seconds per 1,000 tasks).
SECONDS_PER_THOUSAND_TASKS = 0.5

LIST_COLUMNS = [
    {"name": "name", "label": "Name", "field": "name", "align": "left"},
    {"name": "status", "label": "Status", "field": "status", "align": "left"},
    {"name": "progress", "label": "Progress", "field": "done", "align": "left"},
    {"name": "project", "label": "Project", "field": "project", "align": "left"},
    {"name": "created", "label": "Created (UTC)", "field": "created", "align": "left"},
]
LIST_CELLS = {
    "name": r"""
<a :href="'/ui/workflows/' + props.row.id" class="text-primary text-weight-medium"
   :data-testid="'workflow-link-' + props.row.name">{{ props.row.name }}</a>
<div class="text-caption text-grey-7">{{ props.row.description }}</div>
""",
    "status": r"""
<span :class="'tq-badge bg-' + props.row.status_color"
      :data-testid="'workflow-status-' + props.row.name">{{ props.row.status }}</span>
""",
    "progress": r"""
<div class="tq-progress">
  <div :style="{width: (props.row.fraction * 100) + '%'}"></div></div>
<div class="text-caption">{{ props.row.summary }}</div>
""",
}
TASK_COLUMNS = [
    {"name": "key", "label": "Key", "field": "key", "align": "left"},
    {"name": "name", "label": "Name", "field": "name", "align": "left"},
    {"name": "status", "label": "Status", "field": "status_label", "align": "left"},
    {"name": "run_time", "label": "Run time", "field": "run_time", "align": "right"},
    {
        "name": "blocked_by",
        "label": "Waiting for",
        "field": "blocked_by",
        "align": "left",
    },
]


def progress_summary(progress: workflows_pb2.WorkflowProgress) -> str:
    """Return 'n of m done' and the non-zero counts."""
    parts = [
        f"{getattr(progress, s)} {text.label(s)}"
        for s in text.TASK_STATUSES
        if getattr(progress, s)
    ]
    done = progress.completed + progress.failed + progress.cancelled
    return f"{done} of {progress.total} ended · " + ", ".join(parts)


def register(dashboard: Dashboard) -> None:
    """Add the workflow pages."""

    @ui.page(
        "/ui/workflows",
        title="Workflows · Task Queue",
        response_timeout=shell.BUILD_SECONDS,
    )
    async def workflows_page(request: Request, client: Client) -> Response | None:
        context = shell.enter(dashboard, request, client)
        if isinstance(context, Response):
            return context
        with shell.frame(context, "Workflows"):
            await WorkflowList(context).build()
        return None

    @ui.page(
        "/ui/workflows/{workflow_id}",
        title="Workflow · Task Queue",
        response_timeout=shell.BUILD_SECONDS,
    )
    async def workflow_page(
        request: Request, client: Client, workflow_id: str
    ) -> Response | None:
        context = shell.enter(dashboard, request, client)
        if isinstance(context, Response):
            return context
        with shell.frame(context, "Workflows"):
            await WorkflowView(context, workflow_id).build()
        return None


class WorkflowList:
    """One page of workflows with their progress."""

    def __init__(self, context: shell.PageContext) -> None:
        self.context = context
        self.api = context.api
        self.tokens = [""]
        self.next_token = ""
        self.project_names: dict[str, str] = {}

    async def build(self) -> None:
        """Draw the list and fill it."""
        self.errors = shell.ErrorBanner()
        with ui.row().classes("w-full items-center"):
            ui.label("Workflows").classes("text-h5")
            ui.space()
            ui.button(
                "New workflow",
                icon="add",
                on_click=lambda: open_workflow_dialog(self.api),
            ).props("data-testid=new-workflow")
        self.table = tables.table(LIST_COLUMNS, LIST_CELLS)
        self.table.props("data-testid=workflows-table")
        self.empty = ui.label("").classes("text-grey-7")
        with ui.row().classes("items-center gap-2"):
            self.previous = ui.button(
                "Previous", icon="chevron_left", on_click=self._previous
            )
            self.previous.props("flat")
            self.page_label = ui.label("")
            self.following = ui.button("Next", on_click=self._next)
            self.following.props("flat icon-right=chevron_right")
        live = watch(
            self.context.client, self.context.hub, self.refresh, min_interval=1.0
        )
        await self.refresh()
        live.start()

    async def refresh(self) -> None:
        """Read the page shown now again."""
        try:
            page = await self.api.call(
                self.api.workflows.ListWorkflows,
                workflows_pb2.ListWorkflowsRequest(
                    page_size=PAGE_SIZE, page_token=self.tokens[-1]
                ),
            )
            if not self.project_names and any(w.project_id for w in page.workflows):
                self.project_names = {
                    p.id: p.name for p in await all_projects(self.api)
                }
        except UiError as exc:
            self.errors.show(exc)
            return
        self.errors.clear()
        self.next_token = page.next_page_token
        rows = []
        for workflow in page.workflows:
            status = text.workflow_status_name(workflow.status)
            progress = workflow.progress
            ended = progress.completed + progress.failed + progress.cancelled
            rows.append(
                {
                    "id": workflow.id,
                    "name": workflow.name,
                    "description": workflow.description,
                    "status": status,
                    "status_color": text.WORKFLOW_COLORS.get(status, "grey-5"),
                    "done": ended,
                    "fraction": ended / progress.total if progress.total else 0,
                    "summary": progress_summary(progress),
                    "project": self.project_names.get(workflow.project_id, ""),
                    "created": text.when(workflow.created_at),
                }
            )
        self.table.rows = rows
        self.table.update()
        self.empty.set_text("" if rows else "No workflows yet.")
        self.page_label.set_text(f"Page {len(self.tokens)}")
        self.previous.set_enabled(len(self.tokens) > 1)
        self.following.set_enabled(bool(self.next_token))

    async def _next(self) -> None:
        if self.next_token:
            self.tokens.append(self.next_token)
            await self.refresh()

    async def _previous(self) -> None:
        if len(self.tokens) > 1:
            self.tokens.pop()
            await self.refresh()


class WorkflowView:
    """One workflow: its graph, its tasks, cancel and retry."""

    def __init__(self, context: shell.PageContext, workflow_id: str) -> None:
        self.context = context
        self.api = context.api
        self.workflow_id = workflow_id
        self.task_ids: set[str] = set()
        self.workflow = workflows_pb2.Workflow()
        # The first task the table shows, by its place in the workflow.
        self.first = 0

    async def build(self) -> None:
        """Draw the workflow as it is now."""
        self.errors = shell.ErrorBanner()
        self.refresher = Refresher(self.context.client, self.refresh)
        follow(self.context.client, self.context.hub, self._on_change)
        try:
            workflow = await self._get()
        except UiError as exc:
            if exc.code is grpc.StatusCode.NOT_FOUND:
                ui.label(f"No workflow {self.workflow_id}.").classes("text-h6")
                ui.link("All workflows", "/ui/workflows")
                return
            self.errors.show(exc)
            return
        self.task_ids = {t.task.id for t in workflow.tasks}
        with ui.row().classes("w-full items-center gap-3"):
            ui.link("Workflows", "/ui/workflows").classes("text-grey-8")
            ui.icon("chevron_right", color="grey-7")
            ui.label(workflow.name).classes("text-h5").props(
                "data-testid=workflow-name"
            )
            self.badge = ui.badge("", color="grey-5").classes("text-body1 q-px-sm")
            self.badge.props("data-testid=workflow-status")
            ui.space()
            self.cancel_button = ui.button(
                "Cancel workflow",
                icon="cancel",
                color="negative",
                on_click=self._ask_cancel,
            ).props("data-testid=workflow-cancel")
            self.retry_button = ui.button(
                "Retry failed", icon="replay", on_click=self._retry
            ).props("data-testid=workflow-retry")
        if workflow.description:
            ui.label(workflow.description).classes("text-grey-8")
        self.progress = ui.label("").props("data-testid=workflow-progress")
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-center"):
                shell.section(f"Graph · {len(workflow.tasks)} task(s)")
                ui.space()
                for status in text.TASK_STATUSES:
                    ui.badge(text.label(status), color=text.STATUS_COLORS[status])
            self.graph = graph.WorkflowGraph(workflow)
            self.chart = (
                ui.echart(self.graph.options(), on_point_click=self._open_task)
                .classes("w-full")
                .style(f"height: {self.graph.height_px()}px")
            )
            self.chart.props("data-testid=workflow-graph")
        with ui.card().classes("w-full"):
            shell.section("Tasks")
            self.tasks = tables.task_table(TASK_COLUMNS)
            with ui.row().classes("items-center gap-2") as self.pager:
                self.previous = ui.button(
                    "Previous", icon="chevron_left", on_click=self._previous
                )
                self.previous.props("flat data-testid=workflow-tasks-previous")
                self.tasks_note = ui.label("").props("data-testid=workflow-tasks-shown")
                self.following = ui.button("Next", on_click=self._next)
                self.following.props(
                    "flat icon-right=chevron_right data-testid=workflow-tasks-next"
                )
        self._show(workflow)
        self.refresher.min_interval = max(
            self.refresher.min_interval,
            SECONDS_PER_THOUSAND_TASKS * len(workflow.tasks) / 1000,
        )
        self.refresher.start()

    async def _get(self) -> workflows_pb2.Workflow:
        # Outlines carry all the graph and the table show, at a fraction of
        # the cost of full records for a workflow of thousands of tasks.
        answer = await self.api.call(
            self.api.workflows.GetWorkflow,
            workflows_pb2.GetWorkflowRequest(
                id=self.workflow_id, view=workflows_pb2.WORKFLOW_VIEW_BASIC
            ),
        )
        return answer.workflow

    def _on_change(self, change: Change) -> None:
        if change.resync or any(
            # Until the workflow is read, any event may be one of its tasks.
            not self.task_ids or e.task_id in self.task_ids
            for e in change.events
        ):
            self.refresher.poke()

    async def refresh(self) -> None:
        """Read the workflow again and recolour its graph."""
        try:
            workflow = await self._get()
        except UiError as exc:
            self.errors.show(exc)
            return
        self.errors.clear()
        if self.graph.recolor(self.chart.options, workflow):
            self.chart.update()
        self._show(workflow)

    def _show(self, workflow: workflows_pb2.Workflow) -> None:
        status = text.workflow_status_name(workflow.status)
        self.badge.set_text(status)
        self.badge.props(f"color={text.WORKFLOW_COLORS.get(status, 'grey-5')}")
        self.progress.set_text(progress_summary(workflow.progress))
        # A workflow's status names match its tasks' ended ones.
        self.cancel_button.set_enabled(status not in text.TERMINAL)
        self.retry_button.set_enabled(status in ("failed", "cancelled"))
        self.workflow = workflow
        self._show_tasks()

    def _show_tasks(self) -> None:
        tasks = self.workflow.tasks
        self.first = min(
            self.first, max(0, len(tasks) - 1) // TASKS_PER_PAGE * TASKS_PER_PAGE
        )
        shown = tasks[self.first : self.first + TASKS_PER_PAGE]
        rows = []
        for item in shown:
            row = task_row(item.task, {})
            row["key"] = item.key
            rows.append(row)
        self.tasks.rows = rows
        self.tasks.update()
        last = self.first + len(rows)
        self.tasks_note.set_text(
            f"{self.first + 1:,} to {last:,} of {len(tasks):,}" if rows else "No tasks."
        )
        self.previous.set_enabled(self.first > 0)
        self.following.set_enabled(last < len(tasks))
        self.pager.set_visibility(len(tasks) > TASKS_PER_PAGE)

    def _previous(self) -> None:
        self.first = max(0, self.first - TASKS_PER_PAGE)
        self._show_tasks()

    def _next(self) -> None:
        self.first += TASKS_PER_PAGE
        self._show_tasks()

    def _open_task(self, event: object) -> None:
        task_id = self.graph.task_id(getattr(event, "value", None))
        if task_id:
            ui.navigate.to(f"/ui/tasks/{task_id}")

    def _ask_cancel(self) -> None:
        progress = self.workflow.progress
        unended = progress.pending + progress.waiting_for_dependencies
        unended += progress.running
        ask_reason(
            f"Cancel {self.workflow.name}?",
            f"Its {unended:,} task(s) that have not ended are cancelled; "
            "running ones get SIGTERM, then SIGKILL after the grace period.",
            ("Keep it", "Cancel workflow"),
            "cancel-workflow",
            self._cancel,
        )

    async def _cancel(self, reason: str) -> bool:
        try:
            await self.api.call(
                self.api.workflows.CancelWorkflow,
                workflows_pb2.CancelWorkflowRequest(id=self.workflow_id, reason=reason),
            )
        except UiError as exc:
            shell.notify_error(exc)
            return False
        ui.notify("Workflow cancelled", type="positive")
        await self.refresh()
        return True

    async def _retry(self) -> None:
        try:
            await self.api.call(
                self.api.workflows.RetryWorkflow,
                workflows_pb2.RetryWorkflowRequest(id=self.workflow_id),
            )
        except UiError as exc:
            shell.notify_error(exc)
            return
        ui.notify("Retrying the failed and cancelled tasks", type="positive")
        await self.refresh()
