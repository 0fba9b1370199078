"""MCP adapter: tools for AI agents over the task queue's gRPC stubs.

Served over streamable HTTP at ``/mcp`` of the server's HTTP port
(``add_mcp_route``) and over stdio by ``task-queue mcp`` (``run_stdio``).
"""

from tq_mcp.gateway import Gateway
from tq_mcp.http import MCP_PATH, add_mcp_route, close_mcp_streams
from tq_mcp.server import TaskQueueMCP, create_server
from tq_mcp.stdio import run_stdio

__all__ = [
    "MCP_PATH",
    "Gateway",
    "TaskQueueMCP",
    "add_mcp_route",
    "close_mcp_streams",
    "create_server",
    "run_stdio",
]
