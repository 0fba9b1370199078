"""``task-queue serve`` starts the server; ``task-queue server …`` asks it.

``server pause`` / ``server resume`` stop and restart the dispatch of new
tasks server-wide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from taskqueue.cli import output
from taskqueue.cli.options import CliState, ExitCode, format_option, pass_state

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


@click.command("serve")
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="HTTP port (16080).")
@click.option("--grpc-port", type=click.IntRange(0, 65535), help="gRPC port (16081).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database and logs live (./task-queue-data).",
)
@click.option(
    "--database-path",
    type=click.Path(file_okay=False, path_type=Path),
    help="RocksDB directory (DATA_DIR/task-queue.db).",
)
@click.option("--slots", type=click.IntRange(min=1), help="Tasks running at once.")
@click.option(
    "--kill-grace-seconds",
    type=click.FloatRange(min=0),
    help="Between SIGTERM and SIGKILL on cancel or timeout.",
)
@click.option(
    "--log-cap-bytes", type=click.IntRange(min=0), help="Output kept per task."
)
@click.option("--log-level", type=click.Choice(_LOG_LEVELS, case_sensitive=False))
@click.option("--log-format", type=click.Choice(("text", "json")))
@click.option(
    "--api-key",
    "server_api_key",
    help="Require this key from every client (env TASK_QUEUE_API_KEY).",
)
@click.option(
    "--insecure",
    is_flag=True,
    default=None,
    help="Allow a non-loopback --host without an API key.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="config.yml to read (default: ./config.yml when present).",
)
@pass_state
def serve(state: CliState, /, config_file: Path | None, **flags: Any) -> int:
    """Start the task queue server (what `task-queue` alone does)."""
    from taskqueue.app import serve as run_server

    if state.verbose and flags["log_level"] is None:
        flags["log_level"] = "debug"
    flags["api_key"] = flags.pop("server_api_key")
    return int(run_server(flags, config_file))


@click.group("server")
@format_option
def server() -> None:
    """Ask a running server how it is doing; pause or resume its queue."""


@server.command("status")
@format_option
@pass_state
def status(state: CliState) -> None:
    """Show task counts, queue depth, slots, version and uptime."""
    with state.client() as client:
        stats = client.stats()
    output.emit_pairs(output.stats_pairs(stats), stats, state.output_format)


@server.command("metrics")
@format_option
@pass_state
def metrics(state: CliState) -> None:
    """Show the server's counters, one per line."""
    with state.client() as client:
        stats = client.stats()
    pairs = output.metric_pairs(stats)
    output.emit_pairs(pairs, dict(pairs), state.output_format)


@server.command("health")
@format_option
@pass_state
def health(state: CliState) -> int:
    """Print SERVING when the server is healthy; exit 1 otherwise."""
    with state.client() as client:
        serving = client.health()
    output.emit_message(serving, {"status": serving}, state.output_format)
    return ExitCode.OK if serving == "SERVING" else ExitCode.ERROR


@server.command("pause")
@format_option
@pass_state
def pause(state: CliState) -> None:
    """Start no new task (running ones go on) until `server resume`.

    The pause is kept across server restarts.
    """
    with state.client() as client:
        paused = client.pause_queue()
    output.emit_message(
        "Queue paused: running tasks go on, no new task starts "
        "until `task-queue server resume`.",
        {"paused": paused},
        state.output_format,
    )


@server.command("resume")
@format_option
@pass_state
def resume(state: CliState) -> None:
    """Start dispatching tasks again after `server pause`."""
    with state.client() as client:
        paused = client.resume_queue()
    output.emit_message(
        "Queue still paused." if paused else "Queue resumed.",
        {"paused": paused},
        state.output_format,
    )
