"""Checks every request passes before routing: the API key and the body size."""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tq_grpc.auth import key_matches
from tq_rest.errors import BodyTooLarge, error_response

MAX_BODY_BYTES = 1024 * 1024
DENIED = (
    "A valid API key is required: send 'Authorization: Bearer <key>' "
    "or 'X-API-Key: <key>'."
)


def sent_keys(headers: Headers) -> list[str]:
    """Return the keys a caller sent (X-API-Key, Authorization: Bearer)."""
    keys = []
    raw = headers.get("x-api-key")
    if raw is not None:
        keys.append(raw)
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        keys.append(credentials)
    # Starlette decodes headers as latin-1; keys are compared as UTF-8.
    return [key.strip().encode("latin-1").decode("utf-8", "replace") for key in keys]


def authorized(headers: Headers, api_key: str) -> bool:
    """Return whether no key is configured or either header carries the key."""
    if not api_key:
        return True
    matches = [key_matches(key, api_key) for key in sent_keys(headers)]
    return any(matches)


class ApiKeyGuard:
    """Answer 401 to requests without the API key, except on open paths."""

    def __init__(
        self, app: ASGIApp, *, api_key: str, open_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.api_key = api_key
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass authorized requests on; answer the others."""
        if (
            scope["type"] != "http"
            or scope["path"] in self.open_paths
            or authorized(Headers(scope=scope), self.api_key)
        ):
            await self.app(scope, receive, send)
            return
        response = error_response(
            401,
            "unauthenticated",
            DENIED,
            headers={"WWW-Authenticate": 'Bearer realm="task-queue"'},
        )
        await response(scope, receive, send)


class BodyLimit:
    """Answer 413 to a body over the limit, by Content-Length and by reading."""

    def __init__(self, app: ASGIApp, *, limit_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit_bytes = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request while counting its body bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "").strip()
        if declared.isdigit() and (
            len(declared) > 18 or int(declared) > self.limit_bytes
        ):
            await self._refuse(scope, receive, send)
            return

        received = 0
        responded = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit_bytes:
                    raise BodyTooLarge(self.limit_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if responded:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"The request body is larger than the limit of {self.limit_bytes} bytes.",
        )
        await response(scope, receive, send)
