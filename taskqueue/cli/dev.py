"""``task-queue tasks dev …``: drive a task's gated development workflow.

A task created with ``tasks create --development-workflow`` goes through
planning → implementation → test_creation → testing → ai_review →
completed; the server refuses to advance while a gate is unmet. Every
command prints the workflow: its phase, the server's instructions, the
command that makes progress now and the gates still unmet.
"""

from __future__ import annotations

import click

from taskqueue.cli import output
from taskqueue.cli.options import CliState, format_option, pass_state
from taskqueue.models import REVIEW_TYPES, DevelopmentWorkflow

_review_type = click.Choice(REVIEW_TYPES, case_sensitive=False)

# The server names the call that makes progress by its MCP tool; here it is
# the command line that does the same.
_NEXT_COMMANDS = {
    "set_technical_documentation": "task-queue tasks dev doc {id} PATH",
    "advance_workflow_phase": "task-queue tasks dev advance {id}",
    "set_test_coverage": "task-queue tasks dev coverage {id} PERCENT",
    "add_ai_review_report": (
        "task-queue tasks dev review {id} --model NAME --type TYPE "
        "--score 0..1 --approve|--reject"
    ),
    "retry_task": "task-queue tasks retry {id}",
    "get_task": "task-queue tasks dev show {id}  (the test run is still going)",
}


def next_command(workflow: DevelopmentWorkflow) -> str:
    """Return the command line that makes progress now; empty when none does."""
    if not workflow.next_call:
        return ""
    template = _NEXT_COMMANDS.get(workflow.next_call)
    if template is None:
        return workflow.next_call
    return template.format(id=workflow.task_id)


def _show(state: CliState, workflow: DevelopmentWorkflow) -> None:
    output.emit_development(workflow, next_command(workflow), state.output_format)


@click.group("dev")
@format_option
def dev() -> None:
    """Drive a task's development workflow (planning → … → ai_review → completed).

    The task must have been created with `tasks create --development-workflow`.
    Each command prints where the workflow stands and the command to run next.
    """


@dev.command("show")
@click.argument("task_id")
@format_option
@pass_state
def show(state: CliState, task_id: str) -> None:
    """Show the phase, the instructions, the next command and unmet gates."""
    with state.client() as client:
        workflow = client.get_development_workflow(task_id)
    _show(state, workflow)


@dev.command("advance")
@click.argument("task_id")
@format_option
@pass_state
def advance(state: CliState, task_id: str) -> None:
    """Move to the next phase; refused, naming the gate, while one is unmet.

    Entering testing runs the task's command as the test run.
    """
    with state.client() as client:
        workflow = client.advance_phase(task_id)
    _show(state, workflow)


@dev.command("doc")
@click.argument("task_id")
@click.argument("path")
@format_option
@pass_state
def doc(state: CliState, task_id: str, path: str) -> None:
    """Record the technical documentation's PATH (the gate out of planning)."""
    with state.client() as client:
        workflow = client.set_technical_documentation(task_id, path)
    _show(state, workflow)


@dev.command("coverage")
@click.argument("task_id")
@click.argument("percent", type=click.FloatRange(0, 100))
@format_option
@pass_state
def coverage(state: CliState, task_id: str, percent: float) -> None:
    """Report test coverage in PERCENT (0-100) during testing."""
    with state.client() as client:
        workflow = client.set_test_coverage(task_id, percent)
    _show(state, workflow)


@dev.command("review")
@click.argument("task_id")
@click.option("--model", "model_name", required=True, help="Model that reviewed.")
@click.option(
    "--type",
    "review_type",
    type=_review_type,
    default="code_quality",
    show_default=True,
    help="What the review looked at.",
)
@click.option(
    "--score", type=click.FloatRange(0, 1), required=True, help="From 0 to 1."
)
@click.option("--approve", is_flag=True, help="The verdict: approved.")
@click.option(
    "--reject",
    is_flag=True,
    help="The verdict: rejected; the task goes back to implementation.",
)
@click.option("--content", default="", help="The review's text.")
@click.option(
    "--content-file",
    type=click.File("r", encoding="utf-8"),
    help="Read the review's text from a file (- for stdin).",
)
@click.option("--suggestion", "suggestions", multiple=True, help="Repeatable.")
@format_option
@pass_state
def review(
    state: CliState,
    task_id: str,
    model_name: str,
    review_type: str,
    score: float,
    approve: bool,
    reject: bool,
    content: str,
    content_file: click.utils.LazyFile | None,
    suggestions: tuple[str, ...],
) -> None:
    """Add one AI model's review during ai_review.

    Approvals from the project's required number of distinct models open
    the way to completed.
    """
    if approve == reject:
        raise click.UsageError("Give the verdict: --approve or --reject (one).")
    approved = approve
    if content_file is not None:
        if content:
            raise click.UsageError("Give --content or --content-file, not both.")
        content = content_file.read()
    with state.client() as client:
        workflow = client.add_review(
            task_id,
            model_name,
            review_type.lower(),
            content,
            score,
            approved,
            suggestions,
        )
    _show(state, workflow)


@dev.command("fail")
@click.argument("task_id")
@click.option("--reason", required=True, help="Why the work is abandoned.")
@format_option
@pass_state
def fail(state: CliState, task_id: str, reason: str) -> None:
    """End the development workflow as failed (from any phase before completed)."""
    with state.client() as client:
        workflow = client.fail_development(task_id, reason)
    _show(state, workflow)


@dev.command("reopen")
@click.argument("task_id")
@format_option
@pass_state
def reopen(state: CliState, task_id: str) -> None:
    """Take a failed or completed workflow back to implementation, in a new round."""
    with state.client() as client:
        workflow = client.reopen_development(task_id)
    _show(state, workflow)
