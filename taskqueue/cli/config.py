"""``task-queue config show|reset``: the command line's settings and their file.

The settings, their variables and flags are listed in
``taskqueue.cli.settings``; ``config show`` prints each one in force with
where it came from, the API key masked.
"""

from __future__ import annotations

from typing import Any

import click

from taskqueue.cli import output
from taskqueue.cli.options import CliState, ExitCode, format_option, pass_state
from taskqueue.cli.settings import SETTINGS, config_path, mask, write_defaults
from taskqueue.client import resolve_target
from taskqueue.errors import TaskQueueError


@click.group("config")
@format_option
def config() -> None:
    """Show or reset the command line's settings (~/.config/task-queue/config.yaml)."""


@config.command("show")
@format_option
@pass_state
def show(state: CliState) -> None:
    """Print every setting in force and where it came from; the API key masked.

    Precedence: flags > TASK_QUEUE_* environment variables > the config file
    > defaults. `server` is the gRPC address the settings lead to.
    """
    settings = state.settings
    rows: list[dict[str, Any]] = []
    for setting in SETTINGS:
        value = settings[setting.key]
        if setting.secret:
            value = mask(value)
        rows.append(
            {
                "setting": setting.key,
                "value": value,
                "source": settings.sources[setting.key],
                "env": setting.env,
            }
        )
    try:
        target, _ = resolve_target(state.server_url, state.api_key)
    except TaskQueueError as exc:
        target = f"(none: {exc})"
    if state.output_format != "table":
        output.emit_message(
            "",
            {
                "config_file": str(settings.path),
                "config_file_exists": settings.file_found,
                "server": target,
                "settings": {
                    row["setting"]: {"value": row["value"], "source": row["source"]}
                    for row in rows
                },
            },
            state.output_format,
        )
        return
    found = "" if settings.file_found else " (not found; defaults apply)"
    click.echo(f"config file: {settings.path}{found}")
    click.echo(f"server:      {target} (the gRPC address these settings reach)")
    click.echo()
    table = [
        [row["setting"], _shown(row["value"]), row["source"], row["env"]]
        for row in rows
    ]
    output.emit_table(["setting", "value", "source", "variable"], table)


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    return output.cell(value)


@config.command("reset")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> int:
    """Write the config file with every setting at its default.

    Asks first unless --yes; exits 1 without a change when the answer is
    no. Flags and TASK_QUEUE_* variables still win over the file afterwards.
    """
    path = config_path()
    if not yes:
        try:
            agreed = click.confirm(
                f"Replace {path} with the default settings?", default=False, err=True
            )
        except click.Abort:
            agreed = False
        if not agreed:
            click.echo("Nothing changed.", err=True)
            return ExitCode.ERROR
    write_defaults(path)
    click.echo(f"Wrote the default settings to {path}.")
    return ExitCode.OK
