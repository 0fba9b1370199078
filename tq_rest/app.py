"""Build the FastAPI app of the REST adapter.

The app talks only to the gRPC stubs, over one grpc.aio channel to
``grpc_target`` that lives as long as the app's lifespan. Requests pass, from
the outside in: the access log, CORS (when enabled), the API-key guard, the
body-size limit, then FastAPI's routing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from tq_grpc.settings import Settings
from tq_rest.access import AccessLog
from tq_rest.backend import Backend
from tq_rest.errors import install_handlers
from tq_rest.guard import MAX_BODY_BYTES, ApiKeyGuard, BodyLimit
from tq_rest.metrics import Metrics
from tq_rest.routes import (
    development,
    projects,
    queue,
    streams,
    system,
    tasks,
    workflows,
)

logger = logging.getLogger(__name__)

OPEN_PATHS = ("/health",)
EXPOSED_HEADERS = [
    "X-Next-Cursor",
    "Link",
    "X-Next-Offset",
    "X-Log-Size",
    "X-Log-EOF",
    "X-Log-Truncated",
]


def create_app(*, grpc_target: str, settings: Settings) -> FastAPI:
    """Return the REST app; it connects to gRPC when its lifespan starts."""
    metrics = Metrics() if settings.enable_metrics else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend = Backend(grpc_target, api_key=settings.api_key)
        app.state.backend = backend
        logger.info("REST API: forwarding to gRPC at %s", grpc_target)
        try:
            yield
        finally:
            await backend.close()

    app = FastAPI(
        title="Task Queue",
        version=_version(),
        summary="Shell commands run in priority order, durably.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_handlers(app)
    for router in (
        tasks.router,
        development.router,
        streams.router,
        workflows.router,
        projects.router,
        queue.router,
        system.router,
    ):
        app.include_router(router)
    if metrics is not None:
        app.include_router(system.metrics_router)
    _add_middleware(app, settings, metrics)
    if settings.api_key:
        _document_security(app)
    return app


def close_streams(app: FastAPI) -> None:
    """End the app's open response streams (/events, followed logs).

    A server calls this as it begins to stop, so that long-lived streams do
    not hold its graceful shutdown up until the timeout.
    """
    backend: Backend | None = getattr(app.state, "backend", None)
    if backend is not None:
        backend.stopping.set()


def _add_middleware(app: FastAPI, settings: Settings, metrics: Metrics | None) -> None:
    # Each add wraps the previous ones: the last added runs first.
    app.add_middleware(BodyLimit, limit_bytes=MAX_BODY_BYTES)
    app.add_middleware(ApiKeyGuard, api_key=settings.api_key, open_paths=OPEN_PATHS)
    if settings.enable_cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=EXPOSED_HEADERS,
        )
    app.add_middleware(AccessLog, api=app, metrics=metrics)


def _document_security(app: FastAPI) -> None:
    """Declare the API key in the OpenAPI document; /health stays open."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        schema["security"] = [{"bearer": []}, {"apiKey": []}]
        for path in OPEN_PATHS:
            for operation in schema["paths"].get(path, {}).values():
                operation["security"] = []
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _version() -> str:
    try:
        return version("task-queue")
    except PackageNotFoundError:
        return "unknown"
