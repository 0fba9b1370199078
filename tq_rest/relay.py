"""Relay a server-streaming gRPC call into an HTTP response stream.

A background task reads the call into a bounded queue, so the response can
send keep-alive comments while the call is silent, and can end at once when
the app stops streaming (at shutdown) instead of holding the server up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from tq_rest.errors import from_rpc

BUFFER = 1000

# Marker yielded after idle_seconds without an answer.
IDLE: Any = object()

# Tasks of live relays; held here so none is collected while pending.
_tasks: set[asyncio.Future[Any]] = set()


async def relay(
    call: Any, stopping: asyncio.Event, *, idle_seconds: float | None = None
) -> AsyncIterator[Any]:
    """Yield the answers of a streaming call until it ends or stopping is set.

    Yields IDLE after ``idle_seconds`` of silence. A failed call raises
    ApiError; the call is cancelled whenever the relay ends.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=BUFFER)
    stop = _hold(asyncio.ensure_future(stopping.wait()))
    pump = _hold(asyncio.ensure_future(_pump(call, queue)))
    get: asyncio.Future[Any] | None = None
    try:
        while True:
            get = get or _hold(asyncio.ensure_future(queue.get()))
            done, _ = await asyncio.wait(
                {get, stop}, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            if stop in done:
                return
            if get not in done:
                yield IDLE
                continue
            item, get = get.result(), None
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        call.cancel()
        for task in (stop, pump, get):
            if task is not None:
                task.cancel()


async def _pump(call: Any, queue: asyncio.Queue[Any]) -> None:
    try:
        async for answer in call:
            await queue.put(answer)
    except grpc.aio.AioRpcError as exc:
        await queue.put(from_rpc(exc))
        return
    await queue.put(None)


def _hold(task: asyncio.Future[Any]) -> asyncio.Future[Any]:
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task
