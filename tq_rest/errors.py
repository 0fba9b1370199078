"""gRPC status and request problems -> JSON errors, through one table.

Every error response has the body ``{"error": {"code", "message"}}``, plus
``field`` when one request field is to blame::

    ApiError                     raised by routes and the gRPC backend
    ├── from_rpc(...)            a gRPC status, mapped by HTTP_STATUS_OF
    └── BodyTooLarge             the request body exceeds the limit → 413
    RequestValidationError       FastAPI's checks → 422 naming the field
    HTTPException                Starlette's 404 / 405 / 400 → same shape

``code`` is the lower-case gRPC status name (``not_found``,
``failed_precondition``…) or a REST-only code (``invalid_json``,
``payload_too_large``, ``method_not_allowed``). Messages from the server are
passed on except for internal errors, which become a generic sentence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from tq_rest.jsonio import JsonResponse

logger = logging.getLogger(__name__)

HTTP_STATUS_OF: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 503,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

# Codes whose server message may hold internal detail; the client gets these.
_GENERIC_MESSAGES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.UNKNOWN: "Internal server error.",
    grpc.StatusCode.INTERNAL: "Internal server error.",
    grpc.StatusCode.DATA_LOSS: "Internal server error.",
    grpc.StatusCode.UNAVAILABLE: (
        "The task queue service is unavailable; try again shortly."
    ),
    grpc.StatusCode.CANCELLED: (
        "The task queue service dropped the request; try again shortly."
    ),
    grpc.StatusCode.DEADLINE_EXCEEDED: (
        "The task queue service did not answer in time; try again."
    ),
    # grpc's own text for a method without a servicer names Python classes.
    grpc.StatusCode.UNIMPLEMENTED: (
        "The task queue service does not offer this operation (is it older "
        "than this adapter?)."
    ),
}

_REST_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_argument",
    429: "resource_exhausted",
    500: "internal",
    501: "unimplemented",
    503: "unavailable",
}

# "page_token: is not a token…": the field a server message starts with.
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.*)$", re.DOTALL)


class ErrorDetail(BaseModel):
    """What went wrong, for a person and for a program."""

    code: str = Field(description="Stable machine-readable code, e.g. not_found.")
    message: str = Field(description="A sentence naming the ids or fields involved.")
    field: str | None = Field(
        default=None, description="The request field at fault, when there is one."
    )


class ErrorBody(BaseModel):
    """Body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """An error response: status, code, message and maybe the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """Return the JSON response of this error."""
        return error_response(
            self.status, self.code, self.message, field=self.field, headers=self.headers
        )


class BodyTooLarge(HTTPException):
    """The request body is larger than the server accepts."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            413, f"The request body is larger than the limit of {limit_bytes} bytes."
        )


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Return a JSON error response."""
    detail: dict[str, Any] = {"code": code, "message": _printable(message)}
    if field is not None:
        detail["field"] = _printable(field)
    return JsonResponse({"error": detail}, status_code=status, headers=headers)


def _printable(text: str) -> str:
    """Replace lone surrogates (from a client's JSON) so the text encodes."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def http_status_of(code: grpc.StatusCode) -> int:
    """Return the HTTP status of a gRPC status code."""
    return HTTP_STATUS_OF.get(code, 500)


def from_rpc(
    exc: grpc.aio.AioRpcError, aliases: Mapping[str, str] | None = None
) -> ApiError:
    """Return the ApiError of a failed gRPC call.

    Args:
        exc: The failed call.
        aliases: gRPC field name -> REST name (``page_token`` -> ``cursor``),
            so that the message names what the REST caller sent.
    """
    code = exc.code()
    status = http_status_of(code)
    generic = _GENERIC_MESSAGES.get(code)
    if generic is not None:
        _log_backend_failure(code, exc.details() or "")
        return ApiError(status, code.name.lower(), generic)
    message = exc.details() or code.name.replace("_", " ").capitalize() + "."
    field = None
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
        field, message = _named_field(message, aliases or {})
    return ApiError(status, code.name.lower(), message, field=field)


def _named_field(message: str, aliases: Mapping[str, str]) -> tuple[str | None, str]:
    match = _FIELD_PREFIX.match(message)
    if match is None:
        return None, message
    field, rest = match.groups()
    head, dot, tail = field.partition(".")
    field = aliases.get(field) or aliases.get(head, head) + dot + tail
    return field, f"{field}: {rest}"


def renamed(error: ApiError, rest_field: Callable[[str], str]) -> ApiError:
    """Return error with its field (and the message naming it) renamed.

    For requests whose gRPC form nests or splits what the client sent, so
    that ``field`` names the client's field rather than the proto's.
    """
    if error.field is None:
        return error
    field = rest_field(error.field)
    if field == error.field:
        return error
    message = error.message
    if message.startswith(error.field + ": "):
        message = field + message[len(error.field) :]
    return ApiError(
        error.status, error.code, message, field=field, headers=error.headers
    )


def _log_backend_failure(code: grpc.StatusCode, details: str) -> None:
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        logger.warning("gRPC backend unavailable (%s)", code.name)
    elif code is grpc.StatusCode.UNIMPLEMENTED:
        logger.warning("gRPC backend does not implement the call: %s", details)
    elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
        logger.warning("gRPC backend did not answer in time")
    else:
        logger.error("gRPC backend failed with %s: %s", code.name, details)


def field_of(location: Sequence[Any]) -> str:
    """Return a dotted field name for a pydantic error location.

    ``("body", "env", "HOME")`` -> ``env.HOME``; ``("body", "tags", 2)`` ->
    ``tags[2]``; ``("query", "limit")`` -> ``limit``; ``("body",)`` -> ``body``.
    """
    parts = list(location)
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    name = ""
    for part in parts:
        if part == "[key]":
            continue
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def validation_error(exc: RequestValidationError) -> ApiError:
    """Return the ApiError of FastAPI's request validation failure."""
    errors: list[dict[str, Any]] = list(exc.errors())
    first: dict[str, Any] = errors[0] if errors else {"loc": ("body",)}
    if first.get("type") == "json_invalid":
        context: dict[str, Any] = first.get("ctx") or {}
        reason = context.get("error", "malformed JSON")
        return ApiError(400, "invalid_json", f"The body is not valid JSON: {reason}.")
    field = field_of(first.get("loc", ("body",)))
    message = f"{field}: {_sentence(str(first.get('msg', 'is invalid')))}"
    if len(errors) > 1:
        message += f" ({len(errors) - 1} more problem(s) in this request.)"
    return ApiError(422, "invalid_argument", message, field=field)


def _sentence(text: str) -> str:
    text = text.removeprefix("Value error, ")
    return text if text.endswith(".") else text + "."


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_error(exc).response()


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _REST_CODES.get(exc.status_code, "error")
    message = str(exc.detail) if exc.detail else "Request refused."
    path = request.url.path[:200]
    if exc.status_code == 404 and message == "Not Found":
        message = f"No route matches {path!r}."
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {path!r}."
    elif exc.status_code == 400 and message.startswith("There was an error parsing"):
        code, message = "invalid_json", "The body is not valid JSON."
    message = message if message.endswith(".") else message + "."
    return error_response(exc.status_code, code, message, headers=exc.headers)


def install_handlers(app: FastAPI) -> None:
    """Render ApiError, validation errors and HTTP exceptions as JSON errors."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "Malformed request: invalid JSON or a value out of range.",
    401: "A valid API key is required.",
    404: "No such task, project, workflow or route.",
    409: "The object's state forbids the change, or the key is taken.",
    413: "The request body is too large.",
    422: "A field is invalid; `field` names it.",
    503: "The gRPC service is unavailable.",
    504: "The gRPC service did not answer in time.",
}

COMMON_ERRORS = _responses(400, 401, 413, 422, 503, 504)
OBJECT_ERRORS = _responses(400, 401, 404, 413, 422, 503, 504)
CHANGE_ERRORS = _responses(400, 401, 404, 409, 413, 422, 503, 504)
