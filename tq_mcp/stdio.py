"""Serve MCP over stdio for one agent; the tools call a server over gRPC."""

from __future__ import annotations

import asyncio
import logging
import sys

from tq_mcp.gateway import Gateway
from tq_mcp.server import create_server

logger = logging.getLogger(__name__)


def run_stdio(target: str, *, api_key: str = "", log_level: str = "warning") -> None:
    """Serve MCP on stdin/stdout until stdin closes; logs go to stderr.

    Args:
        target: host:port of the task queue's gRPC server.
        api_key: Sent with every gRPC call.
        log_level: Level of the stderr log, unless logging is configured.
    """
    # stdout carries the protocol: nothing else may write to it.
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    server = create_server(Gateway(target, api_key=api_key), log_level=log_level)
    logger.info("MCP: serving stdio; tools call gRPC at %s", target)
    asyncio.run(server.run_stdio_async())
