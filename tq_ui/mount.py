"""Serve the dashboard on the HTTP app that already serves REST and MCP.

``ui.run_with`` mounts NiceGUI's app at ``/`` behind every route already on
the app, as a catch-all. Two adjustments keep the other adapters as they were:

* The catch-all matches only the dashboard's own paths (``/``, ``/ui/…`` and
  NiceGUI's assets and socket). Any other path is routed as before: an
  unknown one gets the REST adapter's JSON 404, a known one with another
  method its 405.
* A front door sends the dashboard's paths straight to that mount, past the
  REST adapter's middleware. A browser carries no ``Authorization`` header,
  so the REST key check would refuse every page; the dashboard instead asks
  for the key on its sign-in page and sends it with every gRPC call, and the
  gRPC server checks it there. REST and MCP paths keep their key check.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

from fastapi import FastAPI
from nicegui import ui
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from tq_grpc.settings import Settings
from tq_ui import pages
from tq_ui.dashboard import Dashboard

DASHBOARD_PATHS = frozenset({"/", "/ui", "/favicon.ico"})
DASHBOARD_PREFIXES = ("/ui/", "/_nicegui/", "/_nicegui_ws/")
SESSION_COOKIE = "task_queue_dashboard"
RECONNECT_TIMEOUT_SECONDS = 15.0
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#1f4e79"/>'
    '<rect x="7" y="8" width="18" height="4" rx="1" fill="#fff"/>'
    '<rect x="7" y="14" width="14" height="4" rx="1" fill="#9ecbff"/>'
    '<rect x="7" y="20" width="10" height="4" rx="1" fill="#9ecbff"/></svg>'
)

_added = False


def is_dashboard_path(path: str) -> bool:
    """Return whether the dashboard answers this path."""
    return path in DASHBOARD_PATHS or path.startswith(DASHBOARD_PREFIXES)


def add_dashboard(app: FastAPI, *, grpc_target: str, settings: Settings) -> Dashboard:
    """Serve the dashboard at ``/`` and ``/ui/…`` of app.

    Call it after every other route is on the app (its mount is a catch-all).
    NiceGUI is one per process, so this can be done once per process.

    Args:
        app: The HTTP app serving REST (and MCP).
        grpc_target: host:port of the gRPC server every page reads from.
        settings: The server's settings; the API key only decides whether
            people must sign in: calls carry the key each person gave.
    """
    global _added  # noqa: PLW0603 -- NiceGUI itself is process-wide
    if _added:
        raise RuntimeError("The dashboard can be added to one app per process.")
    _added = True
    dashboard = Dashboard(grpc_target=grpc_target, settings=settings)
    pages.register(dashboard)
    routes_before = list(app.router.routes)
    ui.run_with(
        app,
        title="Task Queue",
        favicon=FAVICON,
        dark=False,
        storage_secret=secrets.token_urlsafe(32),
        session_middleware_kwargs={"session_cookie": SESSION_COOKIE},
        # No bindings to poll: pages are updated by the event stream.
        binding_refresh_interval=None,
        # NiceGUI 3.18 derives socket.io's ping timeout from this (0.4x, at
        # least 2 s): with the default 3 s, a browser busy for 2 s when a ping
        # came lost its socket. 15 s gives 6 s; a closed tab's page lives 15 s.
        reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
        show_welcome_message=False,
    )
    mount = _narrow_catch_all(app, routes_before)
    app.add_middleware(DashboardDoor, dashboard_app=mount)
    _run_during_lifespan(app, dashboard)
    return dashboard


def _narrow_catch_all(app: FastAPI, routes_before: list[object]) -> Mount:
    added = [r for r in app.router.routes if r not in routes_before]
    if len(added) != 1 or not isinstance(added[0], Mount):
        raise RuntimeError("ui.run_with did not add exactly one mount")
    index = app.router.routes.index(added[0])
    narrowed = DashboardMount(added[0].path or "/", app=added[0].app)
    app.router.routes[index] = narrowed
    return narrowed


def _run_during_lifespan(app: FastAPI, dashboard: Dashboard) -> None:
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(inner: FastAPI) -> AsyncIterator[object]:
        await dashboard.start()
        try:
            async with outer(inner) as state:
                yield state
        finally:
            await dashboard.stop()

    app.router.lifespan_context = lifespan


class DashboardMount(Mount):
    """NiceGUI's mount, matching only the dashboard's paths."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match a dashboard path as a mount does; no other path."""
        if scope["type"] in ("http", "websocket") and not is_dashboard_path(
            scope["path"]
        ):
            return Match.NONE, {}
        return super().matches(scope)


class DashboardDoor:
    """Send the dashboard's paths to the dashboard, the rest to the app."""

    def __init__(self, app: ASGIApp, *, dashboard_app: ASGIApp) -> None:
        self.app = app
        self.dashboard_app = dashboard_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route by path before the REST adapter's middleware sees the request."""
        if scope["type"] in ("http", "websocket") and is_dashboard_path(scope["path"]):
            await self.dashboard_app(scope, receive, send)
        else:
            await self.app(scope, receive, send)
