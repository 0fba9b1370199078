"""What every page shares: the sign-in check, the header and error banners."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from nicegui import Client, ui
from starlette.responses import RedirectResponse, Response

from tq_ui.backend import Api, UiError
from tq_ui.dashboard import Dashboard
from tq_ui.hub import EventHub

LOGIN_PATH = "/ui/login"
# How long a page may take to read its data before NiceGUI gives up on it
# (its default is 3 s; a busy server or a workflow of thousands of tasks
# can take longer).
BUILD_SECONDS = 30.0
NAVIGATION = (
    ("Overview", "/", "dashboard"),
    ("Tasks", "/ui/tasks", "list"),
    ("Projects", "/ui/projects", "folder"),
    ("Workflows", "/ui/workflows", "account_tree"),
    ("Settings", "/ui/settings", "settings"),
)


PAGE_CSS = """
.q-timeline__title { font-size: 0.95rem; margin-bottom: 0; }
.q-timeline__subtitle { margin-bottom: 2px; }
.q-timeline--dense--right .q-timeline__entry { padding-bottom: 4px; }
.q-timeline__content { padding-bottom: 8px; }
.nicegui-log { font-size: 12px; }
.tq-badge { display: inline-block; padding: 1px 6px; border-radius: 4px; color: white;
  font-size: 12px; line-height: 16px; white-space: nowrap; }
.tq-badge.tq-outline { background: transparent; border: 1px solid currentColor; }
.tq-actions { white-space: nowrap; }
.tq-progress { height: 10px; border-radius: 5px; background: #e0e0e0; overflow: hidden;
  min-width: 12rem; }
.tq-progress > div { height: 100%; background: #388e3c; }
.tq-actions button { background: none; border: 0; cursor: pointer; padding: 2px 4px;
  font-size: 18px; border-radius: 50%; }
.tq-actions button:hover { background: rgba(0, 0, 0, 0.08); }
"""


@dataclass
class PageContext:
    """One open page: whose key its calls carry, and the hub it listens to."""

    dashboard: Dashboard
    api: Api
    hub: EventHub
    client: Client
    session_id: str


def session_id_of(request: Request) -> str:
    """Return the browser session's id (NiceGUI's signed session cookie)."""
    return str(request.session.get("id", ""))


def login_url(next_path: str) -> str:
    """Return the sign-in page that leads back to next_path."""
    return f"{LOGIN_PATH}?next={quote(next_path, safe='/')}"


def safe_next(target: str) -> str:
    """Return target if it is a path of this site, else the overview."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def enter(
    dashboard: Dashboard, request: Request, client: Client
) -> PageContext | Response:
    """Return the page's context, or the redirect to the sign-in page."""
    session_id = session_id_of(request)
    key = dashboard.key_for(session_id)
    if key is None:
        target = request.url.path + (
            f"?{request.url.query}" if request.url.query else ""
        )
        return RedirectResponse(login_url(target), status_code=303)
    context = PageContext(
        dashboard=dashboard,
        api=dashboard.api(key),
        hub=dashboard.hub(key),
        client=client,
        session_id=session_id,
    )
    if dashboard.auth_required:
        cancel = dashboard.keys.on_sign_out(session_id, lambda: _to_login(client))
        client.on_delete(cancel)
    return context


def _to_login(client: Client) -> None:
    if client.is_deleted:
        return
    with client:
        ui.navigate.to(LOGIN_PATH)


@contextlib.contextmanager
def frame(context: PageContext, active: str) -> Iterator[ui.column]:
    """Draw the header and navigation; yield the page's main column."""
    ui.colors(primary="#1f4e79")
    ui.query("body").classes("bg-grey-1")
    ui.add_css(PAGE_CSS)
    with ui.header().classes("items-center bg-primary q-px-md q-py-xs gap-1"):
        ui.label("Task Queue").classes("text-h6 text-white q-mr-lg")
        for title, path, icon in NAVIGATION:
            button = ui.button(
                title, icon=icon, on_click=lambda p=path: ui.navigate.to(p)
            )
            button.props("flat no-caps text-color=white").props(
                f"data-testid=nav-{title.lower()}"
            )
            if title == active:
                button.classes("bg-white/20")
        ui.space()
        if context.dashboard.auth_required:
            ui.button(
                "Sign out",
                icon="logout",
                on_click=lambda: _sign_out(context),
            ).props("flat no-caps text-color=white data-testid=sign-out")
    with ui.column().classes("w-full q-pa-md gap-4") as main:
        yield main


def _sign_out(context: PageContext) -> None:
    context.dashboard.keys.sign_out(context.session_id)
    ui.navigate.to(LOGIN_PATH)


class ErrorBanner:
    """A red line at the top of a page saying why data could not be read."""

    def __init__(self) -> None:
        with ui.row().classes("w-full items-center") as self.row:
            ui.icon("error", color="negative")
            self.text = ui.label("").classes("text-negative").props("data-testid=error")
            self.link = ui.link("Sign in again", LOGIN_PATH)
        self.row.set_visibility(False)

    def show(self, error: UiError) -> None:
        """Show the error; a refused key offers the sign-in page."""
        self.text.set_text(error.message)
        self.link.set_visibility(error.unauthenticated)
        self.row.set_visibility(True)

    def clear(self) -> None:
        """Hide the banner."""
        self.row.set_visibility(False)


def notify_error(error: UiError) -> None:
    """Say in a toast that an action was refused."""
    ui.notify(error.message, type="negative", multi_line=True)


def status_badge(status: str, color: str) -> ui.badge:
    """Return a coloured badge naming a status."""
    return ui.badge(status.replace("_", " "), color=color).classes("text-body2 q-px-sm")


def section(title: str) -> ui.label:
    """Return a section heading."""
    return ui.label(title).classes("text-subtitle1 text-weight-medium text-grey-9")
