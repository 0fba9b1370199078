"""/ : counts by status, what runs now, finishes per minute and recent events."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import grpc
from fastapi import Request
from nicegui import Client, ui
from starlette.responses import RedirectResponse, Response

from tq_grpc._gen import system_pb2, tasks_pb2
from tq_ui import text
from tq_ui.backend import UiError
from tq_ui.dashboard import Dashboard
from tq_ui.hub import EventHub
from tq_ui.live import watch
from tq_ui.pages import actions, shell, tables
from tq_ui.reads import all_projects, task_row

RUNNING_SHOWN = 20
EVENTS_SHOWN = 25
RUNNING_COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left"},
    {"name": "project", "label": "Project", "field": "project", "align": "left"},
    {"name": "started", "label": "Started (UTC)", "field": "started", "align": "left"},
    {"name": "run_time", "label": "Running for", "field": "run_time", "align": "right"},
    {"name": "actions", "label": "", "field": "id", "align": "right"},
]
EVENT_COLUMNS: list[dict[str, Any]] = [
    {"name": "at", "label": "Time (UTC)", "field": "at", "align": "left"},
    {"name": "name", "label": "Task", "field": "name", "align": "left"},
    {"name": "change", "label": "Change", "field": "change", "align": "left"},
    {"name": "reason", "label": "Reason", "field": "reason", "align": "left"},
]
EVENT_CELLS = {
    "name": r"""
<a v-if="!props.row.deleted" :href="'/ui/tasks/' + props.row.task_id"
   class="text-primary">{{ props.row.name }}</a>
<span v-else class="text-grey-7">{{ props.row.name }}</span>
""",
    "change": r"""
<span :class="'tq-badge bg-' + props.row.color">{{ props.row.change }}</span>
""",
}
SERIES = (("completed", "#388e3c"), ("failed", "#d32f2f"), ("cancelled", "#9e9e9e"))


def register(dashboard: Dashboard) -> None:
    """Add the overview page at /."""

    @ui.page("/", title="Task Queue", response_timeout=shell.BUILD_SECONDS)
    async def overview_page(request: Request, client: Client) -> Response | None:
        context = shell.enter(dashboard, request, client)
        if isinstance(context, Response):
            return context
        with shell.frame(context, "Overview"):
            view = Overview(context)
            await view.build()
        return None

    @ui.page("/ui", title="Task Queue")
    def ui_root() -> Response:
        return RedirectResponse("/", status_code=307)


class Overview:
    """The overview's parts and how they are read."""

    def __init__(self, context: shell.PageContext) -> None:
        self.context = context
        self.api = context.api
        self.hub: EventHub = context.hub
        self.counts: dict[str, ui.label] = {}
        self.project_names: dict[str, str] = {}

    async def build(self) -> None:
        """Draw the overview and fill it."""
        self.errors = shell.ErrorBanner()
        with ui.row().classes("w-full items-center"):
            ui.label("Overview").classes("text-h5")
            self.paused = ui.badge("queue paused", color="orange-9").classes(
                "text-body2 q-px-sm"
            )
            self.paused.props("data-testid=paused-badge")
            ui.space()
            self.server_line = ui.label("").classes("text-grey-8")
        with ui.row().classes("w-full gap-3"):
            for key, title in (
                ("total", "all tasks"),
                *((s, text.label(s)) for s in text.TASK_STATUSES),
                ("queue_depth", "queued to run"),
            ):
                color = text.STATUS_HEX.get(key, "#1f4e79")
                with (
                    ui.card()
                    .classes("q-pa-sm min-w-[8.5rem]")
                    .style(f"border-top: 4px solid {color}")
                ):
                    self.counts[key] = (
                        ui.label("—")
                        .classes("text-h5")
                        .props(f"data-testid=count-{key}")
                    )
                    ui.label(title).classes("text-caption text-grey-8")
        with ui.row().classes("w-full gap-4 no-wrap items-start"):
            with ui.card().classes("w-1/2"):
                with ui.row().classes("w-full items-center"):
                    shell.section("Running now")
                    ui.space()
                    self.slots = ui.label("").classes("text-grey-8")
                self.running = tables.task_table(RUNNING_COLUMNS)
                self.running.props("data-testid=running-table")
                self.running.on("cancel", self._cancel)
                self.running.on("delete", self._delete)
                self.running_note = ui.label("").classes("text-grey-7")
            with ui.card().classes("w-1/2"):
                shell.section("Finished per minute, last hour (UTC)")
                self.chart = ui.echart(self._chart_options()).classes("w-full h-64")
                self.chart.props("data-testid=finished-chart")
                self.chart_note = ui.label("").classes("text-caption text-grey-7")
        with ui.card().classes("w-full"):
            shell.section("Recent events")
            self.events = tables.table(EVENT_COLUMNS, EVENT_CELLS, row_key="key")
            self.events.props("data-testid=events-table")
            self.events_note = ui.label("").classes("text-grey-7")
        live = watch(self.context.client, self.context.hub, self.refresh, state=True)
        await self.refresh()
        live.start()
        # The chart's window moves on each minute, events or not.
        ui.timer(60.0, self._read_activity)

    async def refresh(self) -> None:
        """Read counts and running tasks; draw the chart and events."""
        try:
            stats, running, projects = await asyncio.gather(
                self.api.call(self.api.system.GetStats, system_pb2.GetStatsRequest()),
                self.api.call(
                    self.api.tasks.ListTasks,
                    tasks_pb2.ListTasksRequest(
                        status=text.status_value("running"), page_size=RUNNING_SHOWN
                    ),
                ),
                all_projects(self.api),
            )
        except UiError as exc:
            self.errors.show(exc)
            return
        self.errors.clear()
        self.project_names = {p.id: p.name for p in projects}
        self.counts["total"].set_text(text.count(stats.total_tasks))
        for status in text.TASK_STATUSES:
            self.counts[status].set_text(
                text.count(stats.tasks_by_status.get(status, 0))
            )
        self.counts["queue_depth"].set_text(text.count(stats.queue_depth))
        self.paused.set_visibility(stats.paused)
        self.server_line.set_text(
            f"version {stats.version} · up {text.duration(stats.uptime_seconds)} · "
            f"{text.count(stats.total_projects)} project(s)"
        )
        self.slots.set_text(f"{stats.running} of {stats.slots} slots busy")
        for task in running.tasks:
            self.hub.remember_name(task.id, task.name)
        self.running.rows = [task_row(t, self.project_names) for t in running.tasks]
        self.running.update()
        extra = stats.running - len(running.tasks)
        self.running_note.set_text(
            "Nothing runs now."
            if not running.tasks
            else (f"… and {extra} more" if extra > 0 else "")
        )
        await self._read_activity()

    async def _read_activity(self) -> None:
        """Read finishes per minute and recent events; draw them."""
        try:
            activity = await self.api.call(
                self.api.system.GetActivity,
                system_pb2.GetActivityRequest(max_events=EVENTS_SHOWN),
            )
        except UiError as exc:
            self.errors.show(exc)
            return
        self._draw_chart(activity)
        await self._draw_events(activity)

    def _chart_options(self) -> dict[str, Any]:
        return {
            "animation": False,
            "grid": {"left": 40, "right": 10, "top": 30, "bottom": 30},
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "xAxis": {"type": "category", "data": []},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {
                    "name": name,
                    "type": "bar",
                    "stack": "finished",
                    "data": [],
                    "color": color,
                }
                for name, color in SERIES
            ],
        }

    def _draw_chart(self, activity: system_pb2.GetActivityResponse) -> None:
        options = self.chart.options
        options["xAxis"]["data"] = [
            datetime.fromtimestamp(m.start.seconds, UTC).strftime("%H:%M")
            for m in activity.minutes
        ]
        for series, (name, _) in zip(options["series"], SERIES, strict=True):
            series["data"] = [getattr(m, name) for m in activity.minutes]
        self.chart.update()
        since = activity.since.seconds
        if time.time() - since < 3600:
            self.chart_note.set_text(
                "Counted since the server started at "
                f"{datetime.fromtimestamp(since, UTC).strftime('%H:%M')} UTC."
            )
        else:
            self.chart_note.set_text("")

    async def _draw_events(self, activity: system_pb2.GetActivityResponse) -> None:
        recent = list(activity.recent_events)
        await self._learn_names({e.task_id for e in recent if not e.deleted})
        rows = []
        for event in recent:
            to_status = text.status_name(event.to_status)
            rows.append(
                {
                    "key": f"{event.seq}",
                    "task_id": event.task_id,
                    "name": self.hub.names.get(
                        event.task_id, text.short_id(event.task_id)
                    ),
                    "at": text.clock(event.at),
                    "change": text.change(event),
                    "color": "grey-8"
                    if event.deleted
                    else text.STATUS_COLORS[to_status],
                    "reason": event.reason,
                    "deleted": event.deleted,
                }
            )
        self.events.rows = rows
        self.events.update()
        since = datetime.fromtimestamp(activity.since.seconds, UTC)
        self.events_note.set_text(
            ""
            if rows
            else f"No task has changed since the server started at "
            f"{since.strftime('%H:%M:%S')} UTC."
        )

    async def _learn_names(self, task_ids: set[str]) -> None:
        missing = [i for i in task_ids if i not in self.hub.names]

        async def learn(task_id: str) -> None:
            try:
                answer = await self.api.call(
                    self.api.tasks.GetTask, tasks_pb2.GetTaskRequest(id=task_id)
                )
            except UiError as exc:
                if exc.code is grpc.StatusCode.NOT_FOUND:
                    self.hub.remember_name(
                        task_id, f"{text.short_id(task_id)} (deleted)"
                    )
                return
            self.hub.remember_name(task_id, answer.task.name)

        await asyncio.gather(*(learn(i) for i in missing))

    def _cancel(self, event: Any) -> None:
        row = event.args
        actions.ask_cancel(self.api, row["id"], row["name"], self.refresh)

    def _delete(self, event: Any) -> None:
        row = event.args
        actions.ask_delete(self.api, row["id"], row["name"], self.refresh)
