"""The development workflow's gates and guidance, as pure functions.

One table of truth: ``unmet_gates`` is what advancing checks, and
``guide`` builds the instructions from the same checks, so what an agent is
told to do is exactly what the server will accept.
"""

from __future__ import annotations

import unicodedata

from tq_actors.models import (
    Development,
    DevelopmentGuide,
    Phase,
    Task,
    TaskStatus,
)

NEXT_PHASE = {
    Phase.PLANNING: Phase.IMPLEMENTATION,
    Phase.IMPLEMENTATION: Phase.TEST_CREATION,
    Phase.TEST_CREATION: Phase.TESTING,
    Phase.TESTING: Phase.AI_REVIEW,
    Phase.AI_REVIEW: Phase.COMPLETED,
}

ADVANCE = "advance_workflow_phase"
SET_DOCUMENTATION = "set_technical_documentation"
SET_COVERAGE = "set_test_coverage"
ADD_REVIEW = "add_ai_review_report"
RETRY = "retry_task"
CHECK = "get_task"


def model_identity(name: str) -> str:
    """What makes two model names the same model: case, spacing and
    invisible characters do not count."""
    visible = "".join(c for c in name if unicodedata.category(c) != "Cf")
    return " ".join(visible.split()).casefold()


def approvals(development: Development) -> set[str]:
    """Distinct models that approved in the current review round."""
    return {
        model_identity(r.model_name)
        for r in development.reviews
        if r.approved and r.round == development.review_round
    }


def test_run_open(task: Task) -> bool:
    """Whether the test run of the current testing phase has not ended yet."""
    development = task.development
    assert development is not None
    run = development.test_run
    return bool(task.command) and (development.test_due or run is None or run.running)


def run_outcome(development: Development) -> str:
    """How the last test run ended, in words."""
    run = development.test_run
    if run is not None and run.exit_code is None and run.started_at is not None:
        return "was interrupted (the server stopped while it ran)"
    if run is None or run.exit_code is None:
        return "could not start"
    return f"exited {run.exit_code}"


def unmet_gates(task: Task, threshold: float, required: int) -> list[str]:
    """Why advancing from the current phase would be refused now."""
    development = task.development
    assert development is not None
    phase = development.phase
    if phase.ended:
        return [f"the workflow is {phase.label}; reopen it first"]
    if task.status is TaskStatus.CANCELLED:
        return ["the task is cancelled; retry it to resume its workflow"]
    gates: list[str] = []
    if phase is Phase.PLANNING and not development.documentation_path:
        gates.append(
            "no technical documentation path is set "
            f"(call {SET_DOCUMENTATION} with the design document's path)"
        )
    if phase is Phase.TESTING:
        run = development.test_run
        if test_run_open(task):
            gates.append("the test run (the task's command) has not ended yet")
        elif task.command and run is not None and run.exit_code != 0:
            gates.append(
                f"the test run {run_outcome(development)}; it must exit 0 "
                f"(fix the code, then call {RETRY} to run it again)"
            )
        if development.coverage is None:
            gates.append(
                f"no test coverage is reported (call {SET_COVERAGE}; "
                f"at least {threshold:g}% is needed)"
            )
        elif development.coverage < threshold:
            gates.append(
                f"test coverage {development.coverage:g}% is below the "
                f"project's threshold of {threshold:g}%"
            )
    if phase is Phase.AI_REVIEW:
        approved = len(approvals(development))
        if approved < required:
            gates.append(
                f"{approved} of {required} approving reviews from distinct models "
                f"in review round {development.review_round} "
                f"(call {ADD_REVIEW})"
            )
    return gates


def guide(task: Task, threshold: float, required: int) -> DevelopmentGuide:
    """Short instructions for the current phase and the call that progresses it."""
    development = task.development
    assert development is not None
    # An ended workflow has no gate left to meet; advancing it is refused
    # with "reopen it first" all the same.
    ended = development.phase.ended
    gates = [] if ended else unmet_gates(task, threshold, required)
    text, call = _instructions(task, development, threshold, required, gates)
    return DevelopmentGuide(
        coverage_threshold=threshold,
        required_reviews=required,
        instructions=text,
        next_call=call,
        unmet_gates=tuple(gates),
    )


def _instructions(
    task: Task,
    development: Development,
    threshold: float,
    required: int,
    gates: list[str],
) -> tuple[str, str]:
    phase = development.phase
    if phase is Phase.COMPLETED:
        return "The development workflow is complete.", ""
    if phase is Phase.FAILED:
        return (
            f"The development workflow failed: {development.failure_reason}. "
            "It can be reopened (ReopenDevelopment, REST POST "
            f"/tasks/{task.id}/workflow/reopen).",
            "",
        )
    if task.status is TaskStatus.CANCELLED:
        return f"The task was cancelled. Call {RETRY} to resume its workflow.", RETRY
    if not gates:
        following = NEXT_PHASE[phase].label.replace("_", " ")
        extra = (
            " Entering testing runs the task's command as the test run."
            if phase is Phase.TEST_CREATION and task.command
            else ""
        )
        return (
            f"{_doing(phase)} Every gate is met: call {ADVANCE} to move to "
            f"{following}.{extra}",
            ADVANCE,
        )
    return _gate_instructions(task, development, threshold, required)


def _gate_instructions(
    task: Task, development: Development, threshold: float, required: int
) -> tuple[str, str]:
    """Instructions while a gate of the current phase is unmet."""
    phase = development.phase
    if phase is Phase.PLANNING:
        return (
            "Planning: write the technical design as a document, then call "
            f"{SET_DOCUMENTATION} with its path, then {ADVANCE}.",
            SET_DOCUMENTATION,
        )
    if phase is Phase.TESTING:
        run = development.test_run
        if test_run_open(task):
            return (
                "Testing: the test run (the task's command) is running; call "
                f"{CHECK} until it has ended.",
                CHECK,
            )
        if task.command and run is not None and run.exit_code != 0:
            return (
                f"Testing: the test run {run_outcome(development)}. Fix the code, "
                f"then call {RETRY} to run the tests again.",
                RETRY,
            )
        return (
            "Testing: measure line coverage and call "
            f"{SET_COVERAGE} with it (at least {threshold:g}%).",
            SET_COVERAGE,
        )
    approved = len(approvals(development))
    return (
        f"AI review, round {development.review_round}: {approved} of {required} "
        f"approving reviews from distinct models. Call {ADD_REVIEW} with each "
        "model's review; a rejection sends the task back to implementation.",
        ADD_REVIEW,
    )


def _doing(phase: Phase) -> str:
    return {
        Phase.PLANNING: "Planning is done.",
        Phase.IMPLEMENTATION: "Implementation: write the code the design describes.",
        Phase.TEST_CREATION: "Test creation: write the tests.",
        Phase.TESTING: "Testing passed.",
        Phase.AI_REVIEW: "AI review has enough approvals.",
    }[phase]
