"""/ui/login: ask for the API key when the server has one."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui
from starlette.responses import RedirectResponse, Response

from tq_grpc._gen import system_pb2
from tq_ui.backend import UiError
from tq_ui.dashboard import Dashboard
from tq_ui.pages import shell


def register(dashboard: Dashboard) -> None:
    """Add the sign-in page."""

    @ui.page(
        shell.LOGIN_PATH,
        title="Sign in · Task Queue",
        response_timeout=shell.BUILD_SECONDS,
    )
    async def login_page(request: Request, next: str = "/") -> Response | None:
        target = shell.safe_next(next)
        if not dashboard.auth_required:
            return RedirectResponse(target, status_code=303)
        session_id = shell.session_id_of(request)
        ui.query("body").classes("bg-grey-2")
        with ui.card().classes("absolute-center w-96"):
            ui.label("Task Queue").classes("text-h5")
            ui.label(
                "This server requires an API key. It is kept for this browser "
                "session only, in the server's memory."
            ).classes("text-grey-8")
            key = ui.input("API key", password=True, password_toggle_button=True)
            key.classes("w-full").props("autofocus data-testid=api-key")
            problem = (
                ui.label("").classes("text-negative").props("data-testid=login-error")
            )

            async def sign_in() -> None:
                value = (key.value or "").strip()
                if not value:
                    problem.set_text("Enter the key.")
                    return
                api = dashboard.api(value)
                try:
                    await api.call(api.system.Ping, system_pb2.PingRequest())
                except UiError as exc:
                    problem.set_text(
                        "The server refused this key."
                        if exc.unauthenticated
                        else exc.message
                    )
                    return
                dashboard.keys.sign_in(session_id, value)
                dashboard.hub(value)
                ui.navigate.to(target)

            key.on("keydown.enter", sign_in)
            ui.button("Sign in", icon="login", on_click=sign_in).classes(
                "w-full"
            ).props("data-testid=sign-in")
        return None
