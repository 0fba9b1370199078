"""One log line per request, its latency metric, and the last-resort 500.

The line names the route template (``/tasks/{id}``), never the query or a
header, so ids and keys stay out of the access log.
"""

from __future__ import annotations

import logging
import re
import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tq_rest.errors import error_response
from tq_rest.metrics import Metrics

logger = logging.getLogger(__name__)  # tq_rest.access

UNMATCHED = "<unmatched>"


class AccessLog:
    """Log ``METHOD /template STATUS DURATIONms`` for every HTTP request."""

    def __init__(
        self, app: ASGIApp, *, api: FastAPI, metrics: Metrics | None = None
    ) -> None:
        self.app = app
        self.api = api
        self.metrics = metrics
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, then log and measure it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        responded = False

        async def watching_send(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            logger.exception("%s %s failed", scope["method"], self._template(scope))
            if responded:
                raise
            response = error_response(500, "internal", "Internal server error.")
            await response(scope, receive, send)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method, template = scope["method"], self._template(scope)
        logger.info("%s %s %d %.1fms", method, template, status, seconds * 1000)
        if self.metrics is not None:
            self.metrics.observe_request(method, template, status, seconds)

    def _template(self, scope: Scope) -> str:
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        # Refused before routing (401, 413): find the template ourselves.
        for pattern, template in self._route_templates():
            if pattern.fullmatch(scope["path"]):
                return template
        return UNMATCHED

    def _route_templates(self) -> list[tuple[re.Pattern[str], str]]:
        if self._templates is None:
            paths = [*self.api.openapi()["paths"], self.api.openapi_url or ""]
            self._templates = [(_pattern(p), p) for p in paths if p]
        return self._templates


def _pattern(template: str) -> re.Pattern[str]:
    """Return the regex of a route template: ``{id}`` matches one segment."""
    parts = template.split("/")
    return re.compile(
        "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    )
