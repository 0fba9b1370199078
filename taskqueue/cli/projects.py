"""``task-queue projects …``: group tasks and limit how many run at once."""

from __future__ import annotations

import click

from taskqueue.cli import output
from taskqueue.cli.options import CliState, format_option, pass_state
from taskqueue.models import PROJECT_STATUSES, TASK_STATUSES

_project_status = click.Choice(PROJECT_STATUSES, case_sensitive=False)
_task_status = click.Choice(TASK_STATUSES, case_sensitive=False)


@click.group("projects")
@format_option
def projects() -> None:
    """Create, inspect and delete projects."""


@projects.command("list")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@format_option
@pass_state
def list_projects(state: CliState, limit: int | None) -> None:
    """List projects."""
    with state.client() as client:
        found = client.list_projects(limit)
    output.emit_records(found, output.PROJECT_COLUMNS, state.output_format)


@projects.command("create")
@click.option("--name", required=True, help="Name of the project.")
@click.option("--description", default="", help="Longer description.")
@click.option(
    "--max-parallel",
    type=click.IntRange(min=0),
    default=0,
    help="Tasks of this project running at once; 0: only the global limit.",
)
@click.option("--status", type=_project_status, help="Default: active.")
@click.option("--parent", "parent_id", help="Id of the parent project.")
@click.option("--tag", "tags", multiple=True, help="Tag, repeatable.")
@format_option
@pass_state
def create_project(
    state: CliState,
    name: str,
    description: str,
    max_parallel: int,
    status: str | None,
    parent_id: str | None,
    tags: tuple[str, ...],
) -> None:
    """Create a project and print it, id first."""
    with state.client() as client:
        project = client.create_project(
            name,
            description,
            status=status,
            parent_id=parent_id,
            tags=tags,
            max_parallel=max_parallel,
        )
    output.emit_record(project, state.output_format)


@projects.command("get")
@click.argument("project_id")
@format_option
@pass_state
def get_project(state: CliState, project_id: str) -> None:
    """Show one project."""
    with state.client() as client:
        project = client.get_project(project_id)
    output.emit_record(project, state.output_format)


@projects.command("update")
@click.argument("project_id")
@click.option("--name")
@click.option("--description")
@click.option("--status", type=_project_status, help="e.g. on_hold, active.")
@click.option("--max-parallel", type=click.IntRange(min=0))
@format_option
@pass_state
def update_project(
    state: CliState,
    project_id: str,
    name: str | None,
    description: str | None,
    status: str | None,
    max_parallel: int | None,
) -> None:
    """Change fields of a project; the others keep their value."""
    if all(value is None for value in (name, description, status, max_parallel)):
        raise click.UsageError("Give at least one field to change.")

    with state.client() as client:
        project = client.update_project(
            project_id,
            name=name,
            description=description,
            status=status,
            max_parallel=max_parallel,
        )
    output.emit_record(project, state.output_format)


@projects.command("tasks")
@click.argument("project_id")
@click.option("--status", type=_task_status, help="Only tasks in this status.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@format_option
@pass_state
def project_tasks(
    state: CliState, project_id: str, status: str | None, limit: int | None
) -> None:
    """List the tasks of one project."""
    with state.client() as client:
        found = client.list_project_tasks(project_id, status, limit)
    output.emit_records(found, output.TASK_COLUMNS, state.output_format)


@projects.command("delete")
@click.argument("project_id")
@click.option("--cascade", is_flag=True, help="Delete its tasks too.")
@format_option
@pass_state
def delete_project(state: CliState, project_id: str, cascade: bool) -> None:
    """Delete a project; refused while it has tasks, unless --cascade."""
    with state.client() as client:
        deleted_tasks = client.delete_project(project_id, cascade)
    output.emit_message(
        f"Deleted project {project_id} and {deleted_tasks} task(s).",
        {"id": project_id, "deleted": True, "deleted_tasks": deleted_tasks},
        state.output_format,
    )
