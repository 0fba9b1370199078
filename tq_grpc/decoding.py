"""Answer INVALID_ARGUMENT, not UNKNOWN, to a request that does not decode.

grpcio turns a deserializer's exception (bad UTF-8 in a string field, a
truncated message) into UNKNOWN. This interceptor decodes defensively and
lets the method refuse such a request with a clear status instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

logger = logging.getLogger(__name__)


class _Undecodable:
    """Stands in for a request whose bytes are not a valid message."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


async def _refuse(context: grpc.aio.ServicerContext, request: _Undecodable) -> None:
    logger.info("A request did not decode: %s", request.reason)
    await context.abort(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"The request is not a valid message: {request.reason}",
    )


class DecodeGuard(grpc.aio.ServerInterceptor):
    """Wraps every method so that an undecodable request is refused cleanly."""

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Return the method's handler with a defensive deserializer."""
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        return _guarded(handler)


def _guarded(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    decode = handler.request_deserializer

    def safe_decode(raw: bytes) -> Any:
        try:
            return decode(raw)
        except DecodeError as exc:
            return _Undecodable(str(exc))

    codec = {
        "request_deserializer": safe_decode,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        inner = handler.unary_unary

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, _Undecodable):
                await _refuse(context, request)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(unary, **codec)
    if handler.unary_stream:
        streaming = handler.unary_stream

        async def stream(
            request: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            if isinstance(request, _Undecodable):
                await _refuse(context, request)
            async for item in streaming(request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(stream, **codec)
    return handler
