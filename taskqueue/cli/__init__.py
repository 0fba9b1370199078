"""The ``task-queue`` command line: a thin shell over the SDK.

Without a sub-command it starts the server. Every other command parses its
options, makes one or a few SDK calls and renders the result. Errors end as
one ``Error: …`` line on stderr and exit code 1; usage errors exit 2.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from taskqueue.cli import mcp, projects, server, tasks, workflows
from taskqueue.cli.config import config
from taskqueue.cli.options import CliState, ExitCode, global_options
from taskqueue.errors import TaskQueueError

__all__ = ["ExitCode", "cli", "main"]


@click.group(
    "task-queue",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@global_options
@click.pass_context
def cli(ctx: click.Context) -> int | None:
    """Task queue: run shell commands in priority order, durably.

    Run without a command to start the server (same as `task-queue serve`).
    """
    if ctx.invoked_subcommand is None:
        return int(ctx.invoke(server.serve))
    return None


cli.add_command(server.serve)
cli.add_command(tasks.tasks)
cli.add_command(projects.projects)
cli.add_command(workflows.workflows)
cli.add_command(server.server)
cli.add_command(mcp.mcp)
cli.add_command(config)


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911
    """Run the command line with ``argv`` (default: sys.argv); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    state = CliState()
    try:
        with cli.make_context("task-queue", args, obj=state) as ctx:
            result = cli.invoke(ctx)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return ExitCode.ERROR
    except (TaskQueueError, TimeoutError) as exc:
        return _fail(str(exc), state)
    except UnicodeEncodeError:
        click.echo("Error: an argument is not valid UTF-8 text.", err=True)
        return ExitCode.USAGE
    except Exception as exc:
        return _fail(f"unexpected {type(exc).__name__}: {exc}", state)
    return int(result) if isinstance(result, int) else ExitCode.OK


def _fail(message: str, state: CliState) -> int:
    if state.verbose:
        traceback.print_exc(file=sys.stderr)
    click.echo(f"Error: {message}", err=True)
    return ExitCode.ERROR


def _silence_stdout() -> None:
    # The reader went away (`task-queue tasks list | head`); point stdout at
    # /dev/null so the interpreter's final flush does not fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
