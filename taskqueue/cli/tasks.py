"""``task-queue tasks …``: create, inspect, change and follow tasks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime

import click

from taskqueue.cli import output, progress
from taskqueue.cli.dev import dev
from taskqueue.cli.options import (
    CliState,
    ExitCode,
    format_option,
    parse_dependencies,
    parse_env,
    parse_time,
    pass_state,
)
from taskqueue.client import TaskQueueClient
from taskqueue.errors import ConflictError
from taskqueue.models import PRIORITIES, TASK_STATUSES, Dependency, Task

_priority = click.Choice(PRIORITIES, case_sensitive=False)
_status = click.Choice(TASK_STATUSES, case_sensitive=False)

# A year: the server's own bound for timeout_seconds.
_TIMEOUT = click.IntRange(0, 366 * 24 * 3600)
# An hour: the server's own bound for retry_delay_seconds.
_RETRY_DELAY = click.FloatRange(0, 3600)
_DEPENDS_ON_HELP = (
    "Task that must end first: ID (it must complete) or "
    "ID:success|failure|completion; repeatable."
)
_START_AFTER_HELP = (
    "Hold the task until then: RFC 3339 with offset, e.g. 2026-01-02T15:04:05Z."
)


@click.group("tasks")
@format_option
def tasks() -> None:
    """Create, inspect, change and follow tasks."""


@tasks.command("list")
@click.option("--status", type=_status, help="Only tasks in this status.")
@click.option("--project", "--project-id", "project_id", help="Only this project's.")
@click.option("--priority", type=_priority, help="Only tasks of this priority.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@format_option
@pass_state
def list_tasks(
    state: CliState,
    status: str | None,
    project_id: str | None,
    priority: str | None,
    limit: int | None,
) -> None:
    """List tasks in creation order."""
    with state.client() as client:
        found = client.list_tasks(status, project_id, priority, limit)
    output.emit_records(found, output.TASK_COLUMNS, state.output_format)


@tasks.command("create")
@click.option("--name", required=True, help="Short name of the task.")
@click.option("--command", default="", help="Shell command; empty to only track.")
@click.option("--project", "--project-id", "project_id", help="Project id.")
@click.option("--description", default="", help="Longer description.")
@click.option("--priority", type=_priority, default="normal", show_default=True)
@click.option(
    "--working-dir",
    type=click.Path(exists=True, file_okay=False, resolve_path=True),
    help="Directory to run in (default: the current directory).",
)
@click.option("--env", multiple=True, callback=parse_env, help="KEY=VALUE, repeatable.")
@click.option("--timeout-seconds", type=_TIMEOUT, default=0)
@click.option(
    "--max-retries",
    type=click.IntRange(0, 100),
    default=0,
    help="Run a failed task again up to N times.",
)
@click.option(
    "--retry-delay",
    "retry_delay_seconds",
    type=_RETRY_DELAY,
    default=0.0,
    metavar="SECONDS",
    help="Wait before the first retry.",
)
@click.option(
    "--start-after", callback=parse_time, metavar="RFC3339", help=_START_AFTER_HELP
)
@click.option("--tag", "tags", multiple=True, help="Tag, repeatable.")
@click.option(
    "--depends-on",
    multiple=True,
    callback=parse_dependencies,
    metavar="ID[:CONDITION]",
    help=_DEPENDS_ON_HELP,
)
@click.option("--idempotency-key", help="Creating twice with one key makes one task.")
@click.option(
    "--development-workflow",
    "--dev",
    "development_workflow",
    is_flag=True,
    help="Put the task under the gated development workflow (see `tasks dev`); "
    "its command then runs as the test run when it enters testing.",
)
@format_option
@pass_state
def create_task(
    state: CliState,
    name: str,
    command: str,
    project_id: str | None,
    description: str,
    priority: str,
    working_dir: str | None,
    env: dict[str, str],
    timeout_seconds: int,
    max_retries: int,
    retry_delay_seconds: float,
    start_after: datetime | None,
    tags: tuple[str, ...],
    depends_on: tuple[Dependency, ...],
    idempotency_key: str | None,
    development_workflow: bool,
) -> None:
    """Create a task and print it, id first.

    With --depends-on it waits (waiting_for_dependencies) until each named
    task has ended as asked; if one never can, it is cancelled.
    """
    with state.client() as client:
        task = client.create_task(
            name,
            command,
            project_id=project_id,
            description=description,
            priority=priority,
            working_dir=os.path.abspath(working_dir or os.getcwd()),
            env=env,
            timeout_seconds=timeout_seconds,
            tags=tags,
            idempotency_key=idempotency_key,
            max_retries=max_retries,
            retry_delay_seconds=retry_delay_seconds,
            depends_on=depends_on,
            start_after=start_after,
            development_workflow=development_workflow,
        )
    output.emit_record(task, state.output_format)


@tasks.command("get")
@click.argument("task_id")
@format_option
@pass_state
def get_task(state: CliState, task_id: str) -> None:
    """Show one task; a waiting one with blocked_by: why it does not run yet."""
    with state.client() as client:
        task = client.get_task(task_id)
    output.emit_record(task, state.output_format)


@tasks.command("update")
@click.argument("task_id")
@click.option("--name")
@click.option("--command")
@click.option("--description")
@click.option("--priority", type=_priority)
@click.option(
    "--working-dir",
    type=click.Path(exists=True, file_okay=False, resolve_path=True),
)
@click.option("--timeout-seconds", type=_TIMEOUT)
@click.option("--max-retries", type=click.IntRange(0, 100))
@click.option(
    "--retry-delay", "retry_delay_seconds", type=_RETRY_DELAY, metavar="SECONDS"
)
@click.option("--env", multiple=True, callback=parse_env, help="Replaces the env.")
@click.option("--tag", "tags", multiple=True, help="Replaces the tags.")
@click.option(
    "--depends-on",
    multiple=True,
    callback=parse_dependencies,
    metavar="ID[:CONDITION]",
    help="Replaces the dependencies; repeatable.",
)
@click.option("--clear-depends-on", is_flag=True, help="Remove every dependency.")
@click.option(
    "--start-after", callback=parse_time, metavar="RFC3339", help=_START_AFTER_HELP
)
@click.option("--clear-start-after", is_flag=True, help="Remove the delayed start.")
@format_option
@pass_state
def update_task(
    state: CliState,
    task_id: str,
    name: str | None,
    command: str | None,
    description: str | None,
    priority: str | None,
    working_dir: str | None,
    timeout_seconds: int | None,
    max_retries: int | None,
    retry_delay_seconds: float | None,
    env: dict[str, str],
    tags: tuple[str, ...],
    depends_on: tuple[Dependency, ...],
    clear_depends_on: bool,
    start_after: datetime | None,
    clear_start_after: bool,
) -> None:
    """Change fields of a pending or waiting task; the others keep their value."""
    given = (name, command, description, priority, working_dir, start_after)
    numbers = (timeout_seconds, max_retries, retry_delay_seconds)
    flags = (env, tags, depends_on, clear_depends_on, clear_start_after)
    if all(v is None for v in given + numbers) and not any(flags):
        raise click.UsageError("Give at least one field to change.")
    if depends_on and clear_depends_on:
        raise click.UsageError("Give --depends-on or --clear-depends-on, not both.")
    if start_after and clear_start_after:
        raise click.UsageError("Give --start-after or --clear-start-after, not both.")

    with state.client() as client:
        task = client.update_task(
            task_id,
            name=name,
            command=command,
            description=description,
            priority=priority,
            working_dir=os.path.abspath(working_dir) if working_dir else None,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
            retry_delay_seconds=retry_delay_seconds,
            env=env or None,
            tags=tags or None,
            depends_on=() if clear_depends_on else (depends_on or None),
            start_after=start_after,
            clear_start_after=clear_start_after,
        )
    output.emit_record(task, state.output_format)


@tasks.command("cancel")
@click.argument("task_id")
@click.option("--reason", default="", help="Recorded in the task's history.")
@format_option
@pass_state
def cancel_task(state: CliState, task_id: str, reason: str) -> None:
    """Cancel a task; a running one has its process group killed."""
    with state.client() as client:
        task = client.cancel_task(task_id, reason)
    output.emit_record(task, state.output_format)


@tasks.command("retry")
@click.argument("task_id")
@format_option
@pass_state
def retry_task(state: CliState, task_id: str) -> None:
    """Start the next attempt of a finished task."""
    with state.client() as client:
        task = client.retry_task(task_id)
    output.emit_record(task, state.output_format)


@tasks.command("delete")
@click.argument("task_id")
@click.option(
    "--cascade", is_flag=True, help="Also delete every task that depends on it."
)
@format_option
@pass_state
def delete_task(state: CliState, task_id: str, cascade: bool) -> None:
    """Delete a task and its history; refused while others depend on it."""
    with state.client() as client:
        try:
            deleted = client.delete_task(task_id, cascade)
        except ConflictError as exc:
            if cascade or "depend" not in exc.message:
                raise
            raise ConflictError(
                f"{exc.message.rstrip()} To delete them with it: "
                f"task-queue tasks delete {task_id} --cascade",
                code=exc.code,
                details=exc.details,
            ) from exc
    others = [other for other in deleted if other != task_id]
    text = f"Deleted task {task_id}."
    if others:
        text = (
            f"Deleted task {task_id} and {len(others)} task(s) depending on it: "
            + ", ".join(others)
        )
    output.emit_message(
        text,
        {"id": task_id, "deleted": True, "deleted_ids": deleted},
        state.output_format,
    )


@tasks.command("history")
@click.argument("task_id")
@format_option
@pass_state
def task_history(state: CliState, task_id: str) -> None:
    """Show every transition of a task, oldest first."""
    with state.client() as client:
        events = client.task_history(task_id)
    output.emit_records(events, output.EVENT_COLUMNS, state.output_format)


@tasks.command("logs")
@click.argument("task_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing until it ends.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Start byte.")
@pass_state
def task_logs(state: CliState, task_id: str, follow: bool, offset: int) -> None:
    """Print a task's output (stdout and stderr) as raw bytes."""
    out = sys.stdout.buffer
    with state.client() as client:
        if follow:
            chunks = client.follow_logs(task_id, offset)
        else:
            chunks = _read_all(client, task_id, offset)
        for chunk in chunks:
            out.write(chunk)
            out.flush()


def _read_all(client: TaskQueueClient, task_id: str, offset: int) -> Iterator[bytes]:
    while True:
        data, offset, eof = client.read_log(task_id, offset)
        if data:
            yield data
        if eof or not data:
            return


@tasks.command("wait")
@click.argument("task_id")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up after seconds.")
@format_option
@pass_state
def wait_task(state: CliState, task_id: str, timeout: float | None) -> int:
    """Wait for a task to end; exit 0 when it completed, 1 otherwise.

    On a terminal a progress line on stderr shows its status meanwhile.
    """
    with (
        state.client() as client,
        progress.progress(state.show_progress) as line,
    ):

        def seen(task: Task) -> None:
            line.update(task_progress(task))

        task = client.wait(
            task_id, timeout, on_change=seen, poll_interval=state.poll_interval
        )
    output.emit_record(task, state.output_format)
    return ExitCode.OK if task.status == "completed" else ExitCode.ERROR


def task_progress(task: Task) -> str:
    """Return the progress line of a task, e.g. "build: running (attempt 2)"."""
    text = f"{task.name}: {task.status}"
    if task.attempt > 1:
        text += f" (attempt {task.attempt})"
    if task.blocked_by:
        text += f" - {task.blocked_by}"
    return text


tasks.add_command(dev)
