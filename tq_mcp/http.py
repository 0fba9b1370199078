"""Serve MCP over streamable HTTP at /mcp of the process's HTTP app.

The SDK's app is built once; its one route joins the app's router at exactly
``/mcp`` (a Mount would answer only at ``/mcp/``), and its session manager
runs inside the app's lifespan (a mounted app's own lifespan never runs).
The app's middleware (API key, body limit, access log) covers the route.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator

from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tq_mcp.gateway import Gateway
from tq_mcp.server import TaskQueueMCP, create_server

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
_WILDCARDS = ("0.0.0.0", "::", "")
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def add_mcp_route(
    app: Starlette,
    *,
    grpc_target: str,
    api_key: str,
    host: str,
    port: int,
    log_level: str = "info",
) -> TaskQueueMCP:
    """Serve MCP at ``/mcp`` of app; its tools call gRPC at grpc_target.

    Args:
        app: The HTTP app; its lifespan is wrapped to run the MCP sessions.
        grpc_target: host:port of the gRPC server the tools call.
        api_key: Sent with every gRPC call (the app checks it on HTTP).
        host: The address the HTTP socket is bound to.
        port: The bound HTTP port: Host headers must name it.
        log_level: The process's log level, so the SDK does not reset it.
    """
    server = create_server(Gateway(grpc_target, api_key=api_key), log_level=log_level)
    mcp_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        # Tools answer once and send nothing while they run: a plain JSON
        # answer takes about half the time of an event stream per call.
        json_response=True,
        transport_security=transport_security(host, port),
        host=host,
    )
    sdk_route = next(
        r for r in mcp_app.routes if isinstance(r, Route) and r.path == MCP_PATH
    )
    streams = _StoppableStreams(sdk_route.endpoint)
    app.state.mcp_streams = streams
    # First, so a request for /mcp is not matched against every REST route
    # (and so a catch-all registered later cannot shadow it).
    app.router.routes.insert(0, _NamedRoute(MCP_PATH, endpoint=streams))
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(inner: Starlette) -> AsyncIterator[object]:
        async with outer(inner) as state, server.session_manager.run():
            logger.info("MCP: serving streamable HTTP at %s", MCP_PATH)
            yield state

    app.router.lifespan_context = lifespan
    return server


def close_mcp_streams(app: Starlette) -> None:
    """End the open MCP event streams (GET /mcp) of app.

    A server calls this as it begins to stop, so that a client's standing
    stream does not hold its graceful shutdown up until the timeout.
    """
    streams: _StoppableStreams | None = getattr(app.state, "mcp_streams", None)
    if streams is not None:
        streams.stopping.set()


class _StoppableStreams:
    """Pass requests on; a GET stream hears a disconnect once stopping is set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.stopping = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; a GET's receive also ends when stopping is set."""
        if scope["method"] != "GET":
            await self.app(scope, receive, send)
            return

        started = ended = False

        async def receive_until_stopping() -> Message:
            if self.stopping.is_set():
                return {"type": "http.disconnect"}
            message = asyncio.ensure_future(receive())
            stopping = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait((message, stopping), return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if message.done():
                return message.result()
            message.cancel()
            return {"type": "http.disconnect"}

        async def watching_send(message: Message) -> None:
            nonlocal started, ended
            started = started or message["type"] == "http.response.start"
            ended = ended or not message.get("more_body", True)
            await send(message)

        await self.app(scope, receive_until_stopping, watching_send)
        if started and not ended and self.stopping.is_set():
            # The stream stopped on our disconnect, not the client's: end it.
            await send({"type": "http.response.body", "body": b""})


class _NamedRoute(Route):
    """A route that names itself in the scope, as FastAPI's own routes do.

    FastAPI's router sets ``scope["route"]`` only for its APIRoutes; the
    access log and metrics read it to name the request's path template.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match as a Route; put this route in the child scope."""
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def transport_security(host: str, port: int) -> TransportSecuritySettings:
    """Return the DNS-rebinding guard: Host must name this host and port.

    A loopback bind accepts every loopback name; a wildcard bind (0.0.0.0,
    ::) also accepts the machine's host names and addresses.
    """
    names = {host}
    if host in _WILDCARDS or _is_loopback(host):
        names.update(_LOOPBACK_NAMES)
    if host in _WILDCARDS:
        names.update(_machine_names())
    names.discard("")
    hosts = sorted(f"[{n}]:{port}" if ":" in n else f"{n}:{port}" for n in names)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"{scheme}://{h}" for h in hosts for scheme in _SCHEMES],
    )


_SCHEMES = ("http", "https")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _machine_names() -> set[str]:
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        infos = []
    names.update(str(info[4][0]) for info in infos)
    return names
