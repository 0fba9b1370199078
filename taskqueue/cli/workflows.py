"""``task-queue workflows …``: run a graph of tasks described in one document."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, TextIO

import click
import yaml

from taskqueue.cli import output, progress
from taskqueue.cli.options import CliState, ExitCode, format_option, pass_state
from taskqueue.errors import ValidationError
from taskqueue.models import Workflow, workflow_create


@click.group("workflows")
@format_option
def workflows() -> None:
    """Create, follow, cancel and retry workflows (tasks with dependencies)."""


@workflows.command("create")
@click.option(
    "--file",
    "-f",
    "source",
    type=click.File("r", encoding="utf-8"),
    required=True,
    help="Workflow document, YAML or JSON; - reads standard input.",
)
@click.option(
    "--project",
    "--project-id",
    "project_id",
    help="Project of the workflow's tasks; wins over the document's project_id.",
)
@format_option
@pass_state
def create_workflow(state: CliState, source: TextIO, project_id: str | None) -> None:
    """Create every task of a workflow document at once and print the workflow.

    The document has a name, optionally a description and project_id, and
    tasks: each with a unique key, the fields of `tasks create` (command,
    priority, env, …) and depends_on, a list of keys (or key/condition
    pairs, or task_id/condition for a task outside the workflow).

    Like `tasks create`, a task without working_dir runs in the current
    directory, and a relative one is taken from the current directory.
    """
    document = with_working_dirs(read_document(source), os.getcwd())
    with state.client() as client:
        workflow = client.create_workflow(document, project_id=project_id)
    output.emit_workflow(workflow, state.output_format)


@workflows.command("list")
@click.option("--project", "--project-id", "project_id", help="Only this project's.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@format_option
@pass_state
def list_workflows(state: CliState, project_id: str | None, limit: int | None) -> None:
    """List workflows in creation order, with their status and progress."""
    with state.client() as client:
        found = client.list_workflows(project_id, limit)
    output.emit_records(found, output.WORKFLOW_COLUMNS, state.output_format)


@workflows.command("get")
@click.argument("workflow_id")
@format_option
@pass_state
def get_workflow(state: CliState, workflow_id: str) -> None:
    """Show a workflow: its tasks with why each waits or ended, and its edges."""
    with state.client() as client:
        workflow = client.get_workflow(workflow_id)
    output.emit_workflow(workflow, state.output_format)


@workflows.command("cancel")
@click.argument("workflow_id")
@click.option("--reason", default="", help="Recorded on each cancelled task.")
@format_option
@pass_state
def cancel_workflow(state: CliState, workflow_id: str, reason: str) -> None:
    """Cancel every task of a workflow that has not ended."""
    with state.client() as client:
        workflow = client.cancel_workflow(workflow_id, reason)
    output.emit_workflow(workflow, state.output_format)


@workflows.command("retry")
@click.argument("workflow_id")
@format_option
@pass_state
def retry_workflow(state: CliState, workflow_id: str) -> None:
    """Run the failed and cancelled tasks again, with everything downstream."""
    with state.client() as client:
        workflow = client.retry_workflow(workflow_id)
    output.emit_workflow(workflow, state.output_format)


@workflows.command("wait")
@click.argument("workflow_id")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up after seconds.")
@format_option
@pass_state
def wait_workflow(state: CliState, workflow_id: str, timeout: float | None) -> int:
    """Wait for a workflow to end; exit 0 when it completed, 1 otherwise.

    On a terminal a progress line on stderr shows the counts per status
    meanwhile; the workflow is printed at the end.
    """
    with (
        state.client() as client,
        progress.progress(state.show_progress) as line,
    ):

        def seen(workflow: Workflow) -> None:
            line.update(workflow_progress(workflow))

        workflow = client.wait_workflow(
            workflow_id, timeout, on_change=seen, poll_interval=state.poll_interval
        )
    output.emit_workflow(workflow, state.output_format)
    return ExitCode.OK if workflow.status == "completed" else ExitCode.ERROR


def workflow_progress(workflow: Workflow) -> str:
    """Return e.g. "build: running: 1/2 ended (1 completed), 1 waiting"."""
    return f"{workflow.name}: {workflow.status}: " + output.progress_text(
        workflow.progress
    )


def read_document(source: TextIO) -> Mapping[str, Any]:
    """Read a workflow document (YAML or JSON) and check its fields.

    Raises:
        ValidationError: naming the file and the field, before any request.
    """
    name = getattr(source, "name", "-")
    name = "<stdin>" if name in ("-", "<stdin>") else click.format_filename(name)
    try:
        text = source.read()
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{name}: not UTF-8 text ({exc.reason}).") from None
    try:
        if text.lstrip().startswith("{"):
            document = json.loads(text)
        else:
            document = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(f"{name}: not valid YAML or JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise ValidationError(
            f"{name}: expected a workflow document (name, tasks, …), "
            f"got {type(document).__name__}."
        )
    try:
        workflow_create(document)
    except ValidationError as exc:
        raise ValidationError(f"{name}: {exc}") from None
    return document


def with_working_dirs(document: Mapping[str, Any], cwd: str) -> dict[str, Any]:
    """Return the document with every task's working_dir absolute (default cwd)."""
    tasks = []
    for task in document["tasks"]:
        given = os.path.expanduser(task.get("working_dir") or "")
        tasks.append(
            {**task, "working_dir": os.path.normpath(os.path.join(cwd, given))}
        )
    return {**document, "tasks": tasks}
