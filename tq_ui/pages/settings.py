"""/ui/settings: the server (GetStats), pause and resume, the configuration, the key."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import Client, ui
from starlette.responses import Response

from tq_grpc._gen import system_pb2
from tq_grpc.settings import Settings
from tq_ui import text
from tq_ui.backend import UiError
from tq_ui.dashboard import Dashboard
from tq_ui.live import watch
from tq_ui.pages import shell


def configuration_rows(settings: Settings) -> list[tuple[str, str]]:
    """Return the server's settings for people; the API key only as on or off."""
    return [
        ("Bind address", settings.host),
        ("HTTP port", str(settings.port)),
        ("gRPC port", str(settings.grpc_port)),
        ("Data directory", str(settings.data_dir.resolve())),
        ("Database", str(settings.db_path.resolve())),
        ("Parallel slots", str(settings.slots)),
        ("SIGTERM → SIGKILL grace", f"{settings.kill_grace_seconds:g} s"),
        ("Log cap per task", text.size(settings.log_cap_bytes)),
        ("Log level", settings.log_level),
        ("Log format", settings.log_format),
        ("API key", "required" if settings.api_key else "not required"),
        ("Non-loopback without key", "allowed" if settings.insecure else "refused"),
        ("Prometheus /metrics", "on" if settings.enable_metrics else "off"),
        ("CORS", "on" if settings.enable_cors else "off"),
    ]


def register(dashboard: Dashboard) -> None:
    """Add the settings page."""

    @ui.page(
        "/ui/settings",
        title="Settings · Task Queue",
        response_timeout=shell.BUILD_SECONDS,
    )
    async def settings_page(request: Request, client: Client) -> Response | None:
        context = shell.enter(dashboard, request, client)
        if isinstance(context, Response):
            return context
        with shell.frame(context, "Settings"):
            await SettingsView(context).build()
        return None


class SettingsView:
    """Server facts, the queue switch, configuration and the signed-in key."""

    def __init__(self, context: shell.PageContext) -> None:
        self.context = context
        self.api = context.api
        self.facts: dict[str, ui.label] = {}

    async def build(self) -> None:
        """Draw the page and fill it."""
        self.errors = shell.ErrorBanner()
        ui.label("Settings").classes("text-h5")
        with ui.row().classes("w-full gap-4 items-start no-wrap"):
            with ui.card().classes("w-1/2"):
                shell.section("Server")
                with ui.grid(columns="auto 1fr").classes("gap-x-6 gap-y-1"):
                    for name in (
                        "Version",
                        "Uptime",
                        "Slots",
                        "Running",
                        "Queued to run",
                        "Tasks",
                        "Projects",
                        "Created since start",
                        "Finished since start",
                        "Mean run time",
                    ):
                        ui.label(name).classes("text-grey-7")
                        self.facts[name] = ui.label("").props(
                            f"data-testid=server-{name.lower().replace(' ', '-')}"
                        )
                with ui.row().classes("items-center gap-3 q-mt-md"):
                    self.queue_state = (
                        ui.label("")
                        .classes("text-weight-medium")
                        .props("data-testid=queue-state")
                    )
                    self.pause = ui.button(
                        "Pause queue", icon="pause", on_click=self._pause
                    )
                    self.pause.props("color=orange-9 data-testid=pause-queue")
                    self.resume = ui.button(
                        "Resume queue", icon="play_arrow", on_click=self._resume
                    )
                    self.resume.props("color=green-8 data-testid=resume-queue")
                ui.label(
                    "Pausing stops dispatching new tasks; running ones go on. "
                    "It is kept across restarts."
                ).classes("text-caption text-grey-7")
            with ui.card().classes("w-1/2"):
                shell.section("Configuration")
                with ui.grid(columns="auto 1fr").classes("gap-x-6 gap-y-1"):
                    for name, value in configuration_rows(
                        self.context.dashboard.settings
                    ):
                        ui.label(name).classes("text-grey-7")
                        ui.label(value).classes("break-all")
                ui.label(
                    "Set by flags of task-queue serve, TASK_QUEUE_* variables or "
                    "config.yml; changes take effect at the next start."
                ).classes("text-caption text-grey-7")
        with ui.card().classes("w-full"):
            shell.section("API key")
            if self.context.dashboard.auth_required:
                ui.label(
                    "The server requires an API key. This browser session signed "
                    "in with one; every call the dashboard makes for you carries it."
                )
                with ui.row():
                    ui.button(
                        "Use another key",
                        icon="key",
                        on_click=lambda: ui.navigate.to(
                            shell.login_url("/ui/settings")
                        ),
                    ).props("data-testid=change-key")
            else:
                ui.label(
                    "The server has no API key: anyone who reaches this port can "
                    "use it. Set TASK_QUEUE_API_KEY (or --api-key) to require one."
                )
        live = watch(self.context.client, self.context.hub, self.refresh, state=True)
        await self.refresh()
        live.start()

    async def refresh(self) -> None:
        """Read GetStats again."""
        try:
            stats = await self.api.call(
                self.api.system.GetStats, system_pb2.GetStatsRequest()
            )
        except UiError as exc:
            self.errors.show(exc)
            return
        self.errors.clear()
        finished = sum(stats.tasks_finished_total.values())
        by_status = ", ".join(
            f"{text.count(n)} {s}"
            for s, n in sorted(stats.tasks_finished_total.items())
            if n
        )
        values: dict[str, Any] = {
            "Version": stats.version,
            "Uptime": text.duration(stats.uptime_seconds),
            "Slots": text.count(stats.slots),
            "Running": text.count(stats.running),
            "Queued to run": text.count(stats.queue_depth),
            "Tasks": text.count(stats.total_tasks),
            "Projects": text.count(stats.total_projects),
            "Created since start": text.count(stats.tasks_created_total),
            "Finished since start": text.count(finished)
            + (f" ({by_status})" if by_status else ""),
            "Mean run time": (
                text.duration(stats.task_duration_sum_seconds / finished)
                if finished
                else "—"
            ),
        }
        for name, value in values.items():
            self.facts[name].set_text(str(value))
        self.queue_state.set_text("Queue paused" if stats.paused else "Queue running")
        self.pause.set_visibility(not stats.paused)
        self.resume.set_visibility(stats.paused)

    async def _pause(self) -> None:
        try:
            await self.api.call(
                self.api.system.PauseQueue, system_pb2.PauseQueueRequest()
            )
        except UiError as exc:
            shell.notify_error(exc)
            return
        await self.refresh()

    async def _resume(self) -> None:
        try:
            await self.api.call(
                self.api.system.ResumeQueue, system_pb2.ResumeQueueRequest()
            )
        except UiError as exc:
            shell.notify_error(exc)
            return
        await self.refresh()
