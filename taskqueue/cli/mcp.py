"""``task-queue mcp``: serve MCP over stdio for one AI agent.

The tools call a running server over gRPC, found like every other command
finds it (``--server-url``, ``TASK_QUEUE_SERVER_URL``, the server settings).
"""

from __future__ import annotations

import click

from taskqueue.cli.options import CliState, ExitCode, pass_state


@click.command("mcp")
# The global options read TASK_QUEUE_SERVER_URL and TASK_QUEUE_API_KEY; these
# repeat them after the command, where MCP client configurations put them.
@click.option(
    "--server-url",
    help="Server whose gRPC port the tools call (as the global --server-url).",
)
@click.option(
    "--api-key",
    help="API key sent with every call (as the global --api-key).",
)
@pass_state
def mcp(state: CliState, /, server_url: str | None, api_key: str | None) -> int:
    """Serve MCP over stdin/stdout; the tools call a running server.

    Point an MCP client at the command `task-queue mcp`; logs go to stderr.
    """
    from taskqueue.client import resolve_target
    from tq_mcp import run_stdio

    target, key = resolve_target(
        server_url or state.server_url, api_key or state.api_key
    )
    run_stdio(
        target, api_key=key or "", log_level="debug" if state.verbose else "warning"
    )
    return ExitCode.OK
