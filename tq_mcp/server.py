"""The MCP server: the tools over one gateway, and how they refuse arguments."""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal, cast, get_args

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import ValidationError

from tq_mcp.arguments import COERCION_RULE, problems_of
from tq_mcp.errors import ArgumentError, ToolFailure
from tq_mcp.gateway import Gateway
from tq_mcp.tools import tool_functions

logger = logging.getLogger(__name__)

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_LOG_LEVELS = get_args(LogLevel)

INSTRUCTIONS = (
    "Task queue: a task is a shell command with a name, priority and project; "
    "the server runs it when a slot is free. Tasks made with submit_task enter "
    "the gated development workflow (planning, implementation, test_creation, "
    "testing, ai_review, completed): every answer about such a task carries "
    "next_call (the tool to call now), instructions and unmet_gates. next_task "
    "picks the ready task to work on. Lists take limit (1-200, default 50) and "
    "page on with cursor = next_cursor. " + COERCION_RULE
)
# Hints for clients that ask before running a tool: these change nothing,
# and these end or remove work.
READ_ONLY_TOOLS = frozenset(
    {
        "get_task",
        "list_tasks",
        "get_task_logs",
        "get_project",
        "list_projects",
        "get_workflow",
        "next_task",
        "get_stats",
    }
)
DESTRUCTIVE_TOOLS = frozenset({"cancel_task", "delete_task"})
# Arguments that name a change other tools make, and which tools.
_HINTS = {
    "status": "status changes go through cancel_task, retry_task and "
    "advance_workflow_phase",
}


class TaskQueueMCP(MCPServer[None]):
    """An MCPServer whose refusals name the argument at fault.

    Unknown arguments are refused rather than ignored, and an argument that
    fails its type is explained in one sentence per argument.
    """

    _arguments: dict[str, frozenset[str]] | None = None

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        context: Context[None, Any] | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool; refused arguments and server errors raise ToolFailure."""
        await self._refuse_unknown(name, arguments)
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as exc:
            raise UnexpectedToolError(
                f"internal: the {name} tool failed unexpectedly; the server's "
                "log has the details."
            ) from exc.__cause__
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ArgumentError(name, problems_of(cause)) from cause
            if isinstance(cause, ToolFailure):
                raise cause from None
            raise

    async def _refuse_unknown(self, name: str, arguments: dict[str, Any]) -> None:
        if self._arguments is None:
            self._arguments = {
                tool.name: frozenset(tool.input_schema.get("properties", {}))
                for tool in await self.list_tools()
            }
        accepted = self._arguments.get(name)
        if accepted is None:
            return
        unknown = sorted(set(arguments) - accepted)
        if not unknown:
            return
        problems = []
        for argument in unknown:
            hint = _HINTS.get(argument)
            takes = ", ".join(sorted(accepted)) or "no arguments"
            problems.append(
                f"{argument}: is not an argument of {name} "
                + (f"({hint})" if hint else f"(it takes {takes})")
            )
        raise ArgumentError(name, problems)


def sdk_log_level(name: str) -> LogLevel:
    """Return the SDK's spelling of a log level name (``info`` -> ``INFO``)."""
    level = name.upper()
    if level not in _LOG_LEVELS:
        raise ValueError(f"{name!r} is not a log level")
    return cast(LogLevel, level)


def create_server(gateway: Gateway, *, log_level: str = "info") -> TaskQueueMCP:
    """Return the MCP server of the task queue; its lifespan opens gateway.

    Args:
        gateway: The gRPC stubs every tool calls.
        log_level: Passed to the SDK, which configures logging with it only
            when nothing configured it before.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer[None]) -> AsyncIterator[None]:
        await gateway.open()
        try:
            yield None
        finally:
            await gateway.close()

    server = TaskQueueMCP(
        name="task-queue",
        tools=[_tool(function) for function in tool_functions(gateway)],
        title="Task Queue",
        instructions=INSTRUCTIONS,
        version=_version(),
        log_level=sdk_log_level(log_level),
        lifespan=lifespan,
    )
    return server


def _tool(function: Any) -> Tool:
    """Return a tool whose description is its docstring on one line, with the
    typing rule when it takes a number or a boolean."""
    name = function.__name__
    tool = Tool.from_function(
        function,
        annotations=ToolAnnotations(
            read_only_hint=name in READ_ONLY_TOOLS,
            destructive_hint=name in DESTRUCTIVE_TOOLS,
            open_world_hint=False,
        ),
    )
    text = " ".join(inspect.cleandoc(function.__doc__ or "").split())
    schema = json.dumps(tool.parameters)
    if any(f'"type": "{kind}"' in schema for kind in ("integer", "number", "boolean")):
        text += " " + COERCION_RULE
    tool.description = text
    return tool


def _version() -> str:
    try:
        return version("task-queue")
    except PackageNotFoundError:
        return "unknown"
