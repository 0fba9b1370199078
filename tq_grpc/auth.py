"""API-key check for every gRPC method but the standard health service.

A client sends ``authorization: Bearer <key>`` or ``x-api-key: <key>`` as
metadata. Keys are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc

logger = logging.getLogger(__name__)

OPEN_PREFIXES = ("/grpc.health.v1.Health/",)
DENIED = "A valid API key is required: send 'authorization: Bearer <key>'."


def keys_from_metadata(metadata: Sequence[tuple[str, Any]] | None) -> list[str]:
    """Return the keys a caller sent (x-api-key, authorization: Bearer)."""
    keys = []
    for name, value in metadata or ():
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if name == "x-api-key":
            keys.append(str(text))
        elif name == "authorization" and text.lower().startswith("bearer "):
            keys.append(str(text[7:].strip()))
    return keys


def key_matches(sent: str, expected: str) -> bool:
    """Compare keys in constant time."""
    return hmac.compare_digest(sent.encode(), expected.encode())


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without the configured key with UNAUTHENTICATED."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Pass authorized calls on; answer the others with UNAUTHENTICATED."""
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        metadata = handler_call_details.invocation_metadata  # type: ignore[attr-defined]
        matches = [key_matches(k, self._api_key) for k in keys_from_metadata(metadata)]
        if any(matches):
            return handler
        logger.info("%s refused: missing or wrong API key", method)
        return _denying(handler)


async def _deny_unary(request: Any, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, DENIED)


async def _deny_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, DENIED)
    yield  # pragma: no cover - abort raises


def _denying(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    codec = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(_deny_stream, **codec)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(_deny_unary, **codec)
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(_deny_stream, **codec)
    return grpc.unary_unary_rpc_method_handler(_deny_unary, **codec)
