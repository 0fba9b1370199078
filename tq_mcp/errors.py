"""gRPC status and argument problems -> tool errors, through one table.

An MCP tool that fails answers ``isError: true`` with one text block; the
SDK turns a raised ``ToolError`` into that answer::

    ToolError (mcp SDK)
    └── ToolFailure          a refused or failed call; its text is the answer
        ├── from_rpc(...)    a gRPC status, mapped by CODES
        └── ArgumentError    arguments that do not fit the tool's input schema

A ``ToolFailure`` reads ``<code>: <message>``: ``code`` is the lower-case
gRPC status name (``not_found``, ``failed_precondition``…) or
``invalid_argument`` for an argument refused before any call. The server's
message is passed on, with its field names turned into the tool's argument
names, except for statuses whose text may hold internal detail: those get a
fixed sentence and are logged here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import grpc
from mcp.server.mcpserver.exceptions import ToolError

logger = logging.getLogger(__name__)

# Status -> (code in the answer, fixed message or None to pass the server's on).
CODES: dict[grpc.StatusCode, tuple[str, str | None]] = {
    grpc.StatusCode.OK: ("ok", None),
    grpc.StatusCode.CANCELLED: (
        "unavailable",
        "The task queue server dropped the request; try again shortly.",
    ),
    grpc.StatusCode.UNKNOWN: ("internal", "Internal server error."),
    grpc.StatusCode.INVALID_ARGUMENT: ("invalid_argument", None),
    grpc.StatusCode.DEADLINE_EXCEEDED: (
        "deadline_exceeded",
        "The task queue server did not answer in time; try again.",
    ),
    grpc.StatusCode.NOT_FOUND: ("not_found", None),
    grpc.StatusCode.ALREADY_EXISTS: ("already_exists", None),
    grpc.StatusCode.PERMISSION_DENIED: ("permission_denied", None),
    grpc.StatusCode.RESOURCE_EXHAUSTED: ("resource_exhausted", None),
    grpc.StatusCode.FAILED_PRECONDITION: ("failed_precondition", None),
    grpc.StatusCode.ABORTED: ("aborted", None),
    grpc.StatusCode.OUT_OF_RANGE: ("out_of_range", None),
    # grpc's own text for a method without a servicer names Python classes.
    grpc.StatusCode.UNIMPLEMENTED: (
        "unimplemented",
        "The task queue server does not offer this operation yet (is it older "
        "than this MCP adapter?).",
    ),
    grpc.StatusCode.INTERNAL: ("internal", "Internal server error."),
    grpc.StatusCode.UNAVAILABLE: (
        "unavailable",
        "The task queue server is unavailable; is it running? Try again shortly.",
    ),
    grpc.StatusCode.DATA_LOSS: ("internal", "Internal server error."),
    grpc.StatusCode.UNAUTHENTICATED: (
        "unauthenticated",
        "The task queue server refused the API key (or none was sent): start "
        "`task-queue mcp` with --api-key or TASK_QUEUE_API_KEY.",
    ),
}

# "page_token: is not a token…": the field a server message starts with.
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.*)$", re.DOTALL)


class ToolFailure(ToolError):
    """A tool call the server refused or could not serve.

    Raised by the gateway (from a gRPC status) and by tools; the MCP client
    receives ``isError: true`` with the text ``<code>: <message>``.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field

    def renamed(self, field: str) -> ToolFailure:
        """Return this failure naming ``field`` instead of its own field."""
        message = self.message
        if self.field is not None and message.startswith(self.field + ": "):
            message = field + message[len(self.field) :]
        return ToolFailure(self.code, message, field=field)


class ArgumentError(ToolFailure):
    """Arguments that do not fit a tool's input schema; names the argument."""

    def __init__(self, tool: str, problems: list[str]) -> None:
        shown = "; ".join(problems[:5])
        if len(problems) > 5:
            shown += f" (and {len(problems) - 5} more)"
        super().__init__("invalid_argument", f"Invalid arguments for {tool}: {shown}")


def from_rpc(
    exc: grpc.aio.AioRpcError, aliases: Mapping[str, str] | None = None
) -> ToolFailure:
    """Return the ToolFailure of a failed gRPC call.

    Args:
        exc: The failed call.
        aliases: gRPC field name -> tool argument name (``id`` ->
            ``task_id``), so that the message names what the agent sent.
    """
    status = exc.code()
    code, fixed = CODES.get(status, ("internal", "Internal server error."))
    if fixed is not None:
        _log_backend_failure(status, exc.details() or "")
        return ToolFailure(code, fixed)
    message = exc.details() or status.name.replace("_", " ").capitalize() + "."
    field = None
    if status in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
        field, message = named_field(message, aliases or {})
    return ToolFailure(code, message, field=field)


def named_field(message: str, aliases: Mapping[str, str]) -> tuple[str | None, str]:
    """Return the field a server message starts with, renamed, and the message."""
    match = _FIELD_PREFIX.match(message)
    if match is None:
        return None, message
    field, rest = match.groups()
    if field in aliases:
        field = aliases[field]
    else:
        head, dot, tail = field.partition(".")
        bracket = head.find("[")
        stem, index = (head, "") if bracket < 0 else (head[:bracket], head[bracket:])
        field = aliases.get(stem, stem) + index + dot + tail
    return field, f"{field}: {rest}"


def _log_backend_failure(status: grpc.StatusCode, details: str) -> None:
    if status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        logger.warning("MCP: the gRPC backend is unavailable (%s)", status.name)
    elif status is grpc.StatusCode.UNIMPLEMENTED:
        logger.warning("MCP: the gRPC backend does not implement the call: %s", details)
    elif status is grpc.StatusCode.DEADLINE_EXCEEDED:
        logger.warning("MCP: the gRPC backend did not answer in time")
    elif status is grpc.StatusCode.UNAUTHENTICATED:
        logger.warning("MCP: the gRPC backend refused the API key")
    else:
        logger.error("MCP: the gRPC backend failed with %s: %s", status.name, details)
