"""Unit tests of the development workflow's gates and guidance."""

from __future__ import annotations

from tq_actors import devflow
from tq_actors.models import (
    Development,
    Phase,
    Review,
    ReviewType,
    Task,
    TaskSpec,
    TaskStatus,
    TestRun,
    evolve,
)
from tq_actors.records import new_task


def _task(command: str = "make test", **development: object) -> Task:
    task = new_task(
        TaskSpec(name="t", command=command, development_workflow=True), 1, 0.0
    )
    assert task.development is not None
    return evolve(task, development=evolve(task.development, **development))


def _review(model: str, approved: bool = True, round_: int = 1) -> Review:
    return Review(model, ReviewType.SECURITY, "", 1.0, approved, (), round_, 0.0)


def test_planning_needs_a_document() -> None:
    task = _task()

    assert devflow.unmet_gates(task, 90, 3)[0].startswith(
        "no technical documentation path is set"
    )
    guide = devflow.guide(task, 90, 3)
    assert guide.next_call == devflow.SET_DOCUMENTATION
    assert devflow.unmet_gates(_task(documentation_path="d.md"), 90, 3) == []


def test_testing_needs_a_passing_run_and_enough_coverage() -> None:
    running = _task(phase=Phase.TESTING, test_run=TestRun(attempt=1, running=True))
    failed = _task(phase=Phase.TESTING, test_run=TestRun(1, False, 2), coverage=95.0)
    low = _task(phase=Phase.TESTING, test_run=TestRun(1, False, 0), coverage=50.0)
    good = _task(phase=Phase.TESTING, test_run=TestRun(1, False, 0), coverage=90.0)
    no_command = _task("", phase=Phase.TESTING, coverage=90.0)

    assert devflow.guide(running, 90, 3).next_call == devflow.CHECK
    assert "exited 2" in devflow.unmet_gates(failed, 90, 3)[0]
    assert devflow.guide(failed, 90, 3).next_call == devflow.RETRY
    assert "below the project's threshold of 90%" in devflow.unmet_gates(low, 90, 3)[0]
    assert devflow.guide(low, 90, 3).next_call == devflow.SET_COVERAGE
    assert devflow.unmet_gates(good, 90, 3) == []
    assert devflow.unmet_gates(no_command, 90, 3) == []


def test_review_counts_distinct_approving_models_of_the_round() -> None:
    reviews = (
        _review("a"),
        _review("a"),
        _review("b", approved=False),
        _review("c", round_=0),
    )
    task = _task(phase=Phase.AI_REVIEW, reviews=reviews)

    assert devflow.approvals(task.development) == {"a"}  # type: ignore[arg-type]
    assert devflow.unmet_gates(task, 90, 2)[0].startswith("1 of 2 approving reviews")
    assert devflow.unmet_gates(task, 90, 1) == []


def test_an_ended_or_cancelled_workflow_cannot_advance() -> None:
    assert "reopen it first" in devflow.unmet_gates(_task(phase=Phase.FAILED), 90, 3)[0]
    cancelled = evolve(_task(documentation_path="d"), status=TaskStatus.CANCELLED)
    assert devflow.guide(cancelled, 90, 3).next_call == devflow.RETRY
    assert devflow.guide(_task(phase=Phase.COMPLETED), 90, 3).next_call == ""


def test_instructions_name_the_call_that_the_gates_accept() -> None:
    for phase in (Phase.IMPLEMENTATION, Phase.TEST_CREATION):
        guide = devflow.guide(_task(phase=phase), 90, 3)
        assert guide.next_call == devflow.ADVANCE
        assert devflow.ADVANCE in guide.instructions
    assert isinstance(Development().phase, Phase)
