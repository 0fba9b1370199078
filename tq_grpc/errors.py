"""Domain error -> gRPC status, through one table, for every servicer.

Anticipated errors (the TaskQueueError tree) log at INFO and return their
message; anything else is logged with its traceback and returns a generic
message, so no internal detail reaches a client.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
import pykka

from tq_actors import errors

logger = logging.getLogger(__name__)

STATUS_OF: dict[type[errors.TaskQueueError], grpc.StatusCode] = {
    errors.TaskQueueError: grpc.StatusCode.UNKNOWN,
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.TaskNotFound: grpc.StatusCode.NOT_FOUND,
    errors.ProjectNotFound: grpc.StatusCode.NOT_FOUND,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.IllegalTransition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
}

Servicer = TypeVar("Servicer")
Request = TypeVar("Request")
Response = TypeVar("Response")


def status_of(exc: errors.TaskQueueError) -> grpc.StatusCode:
    """Return the status of the nearest mapped class of an error."""
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]  # type: ignore[index]
    return grpc.StatusCode.UNKNOWN


MAX_DETAILS_CHARS = 2000


def bounded(message: str) -> str:
    """Shorten a message to fit status details (gRPC metadata is capped)."""
    if len(message) <= MAX_DETAILS_CHARS:
        return message
    keep = MAX_DETAILS_CHARS // 2
    left_out = len(message) - 2 * keep
    return f"{message[:keep]} … ({left_out} characters left out) … {message[-keep:]}"


async def _abort(
    context: grpc.aio.ServicerContext, method: str, exc: BaseException
) -> None:
    if isinstance(exc, errors.TaskQueueError):
        message = bounded(str(exc))
        logger.info("%s refused: %s", method, message)
        await context.abort(status_of(exc), message)
    if isinstance(exc, pykka.ActorDeadError):
        logger.warning("%s: the server is shutting down", method)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "The server is shutting down.")
    logger.error("%s failed", method, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, "Internal server error.")


def unary(
    fn: Callable[[Servicer, Request, grpc.aio.ServicerContext], Awaitable[Response]],
) -> Callable[[Servicer, Request, grpc.aio.ServicerContext], Awaitable[Response]]:
    """Translate errors of a unary method through the table."""

    @functools.wraps(fn)
    async def wrapper(
        self: Servicer, request: Request, context: grpc.aio.ServicerContext
    ) -> Response:
        try:
            return await fn(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, fn.__name__, exc)
            raise  # unreachable: abort raises

    return wrapper


def streaming(
    fn: Callable[[Servicer, Request, grpc.aio.ServicerContext], AsyncIterator[Any]],
) -> Callable[[Servicer, Request, grpc.aio.ServicerContext], AsyncIterator[Any]]:
    """Translate errors of a server-streaming method through the table."""

    @functools.wraps(fn)
    async def wrapper(
        self: Servicer, request: Request, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        try:
            async for item in fn(self, request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, fn.__name__, exc)

    return wrapper
