"""Routes that serve bytes and streams: task output and the event feed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from tq_grpc._gen import system_pb2, tasks_pb2
from tq_rest import convert, schemas
from tq_rest.backend import Backend, BackendDep
from tq_rest.errors import COMMON_ERRORS, OBJECT_ERRORS, ApiError
from tq_rest.relay import IDLE, relay
from tq_rest.routes.paging import ObjectId

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
PING_TIMEOUT_SECONDS = 5.0

router = APIRouter()

_LOG_HEADERS = {
    "X-Next-Offset": {
        "description": "Offset just past the returned bytes.",
        "schema": {"type": "integer"},
    },
    "X-Log-Size": {
        "description": "Size of the whole log in bytes.",
        "schema": {"type": "integer"},
    },
    "X-Log-EOF": {
        "description": "true once the task has ended and nothing lies beyond.",
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
    "X-Log-Truncated": {
        "description": "true when output beyond the size cap was dropped.",
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
}
_BYTES = {"schema": {"type": "string", "format": "binary"}}
_EVENT_STREAM = {"schema": {"type": "string"}}


@router.get(
    "/tasks/{id}/logs",
    tags=["tasks"],
    response_class=Response,
    responses={
        **OBJECT_ERRORS,
        200: {
            "description": "Raw output bytes (stdout and stderr interleaved); "
            "with follow=true a chunked stream until the task ends.",
            "content": {"application/octet-stream": _BYTES},
            "headers": _LOG_HEADERS,
        },
    },
    summary="Read or follow a task's output",
)
async def task_logs(
    id: ObjectId,
    backend: BackendDep,
    offset: Annotated[int, Query(ge=0, le=schemas.INT64_MAX)] = 0,
    max_bytes: Annotated[
        int, Query(ge=1, le=schemas.MAX_LOG_READ_BYTES)
    ] = schemas.MAX_LOG_READ_BYTES,
    follow: bool = False,
) -> Response:
    """Return output bytes from offset; bytes need not be valid UTF-8."""
    if follow:
        await backend.call(backend.tasks.GetTask, tasks_pb2.GetTaskRequest(id=str(id)))
        return StreamingResponse(
            _follow(backend, str(id), offset),
            media_type="application/octet-stream",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )
    chunk = await backend.call(
        backend.tasks.ReadTaskLog,
        tasks_pb2.ReadTaskLogRequest(id=str(id), offset=offset, max_bytes=max_bytes),
    )
    return Response(
        chunk.data,
        media_type="application/octet-stream",
        headers={
            "X-Next-Offset": str(chunk.next_offset),
            "X-Log-Size": str(chunk.size_bytes),
            "X-Log-EOF": _flag(chunk.eof),
            "X-Log-Truncated": _flag(chunk.truncated),
            "X-Content-Type-Options": "nosniff",
        },
    )


async def _follow(backend: Backend, task_id: str, offset: int) -> AsyncIterator[bytes]:
    call = backend.stream(
        backend.tasks.FollowTaskLog,
        tasks_pb2.FollowTaskLogRequest(id=task_id, offset=offset),
    )
    try:
        async for answer in relay(call, backend.stopping):
            yield answer.data
    except ApiError as exc:
        # The response has started; all that is left is to end it early.
        logger.warning("Task %r: log stream ended early (%s)", task_id, exc.code)


@router.get(
    "/events",
    tags=["events"],
    response_class=StreamingResponse,
    responses={
        **COMMON_ERRORS,
        200: {
            "description": "Server-sent events: `id: <seq>` and "
            "`data: <TaskEvent JSON>` per transition; comments keep it alive.",
            "content": {"text/event-stream": _EVENT_STREAM},
        },
    },
    summary="Stream task transitions (server-sent events)",
)
async def events(
    backend: BackendDep,
    task_id: Annotated[
        list[uuid.UUID] | None, Query(description="Only these tasks (repeatable).")
    ] = None,
    project: Annotated[
        uuid.UUID | None, Query(description="Only this project.")
    ] = None,
) -> Response:
    """Stream every committed task transition as it happens."""
    await backend.call(
        backend.system.Ping,
        system_pb2.PingRequest(),
        timeout_seconds=PING_TIMEOUT_SECONDS,
    )
    request = tasks_pb2.WatchEventsRequest(
        task_ids=[str(t) for t in task_id or ()], project_id=str(project or "")
    )
    return StreamingResponse(
        _server_sent_events(backend, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _server_sent_events(
    backend: Backend, request: tasks_pb2.WatchEventsRequest
) -> AsyncIterator[bytes]:
    call = backend.stream(backend.tasks.WatchEvents, request)
    yield b": stream open\n\n"
    try:
        async for item in relay(call, backend.stopping, idle_seconds=KEEPALIVE_SECONDS):
            if item is IDLE:
                yield b": keepalive\n\n"
            else:
                event = item.event
                yield _frame(None, convert.event_json(event), event_id=event.seq)
    except ApiError as exc:
        error = {"code": exc.code, "message": exc.message}
        yield _frame("error", {"error": error})


def _frame(
    event: str | None, data: dict[str, Any], event_id: int | None = None
) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}".encode())
    if event is not None:
        lines.append(f"event: {event}".encode())
    lines.append(b"data: " + orjson.dumps(data))
    return b"\n".join(lines) + b"\n\n"


def _flag(value: bool) -> str:
    return "true" if value else "false"
