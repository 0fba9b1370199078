"""The gated development workflow over gRPC: every gate refused, then passed."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import grpc

from tests.integration.polling import (
    code_of,
    create_task,
    details_of,
    get_task,
    rpc_error,
    wait_until,
)
from tests.server_process import ServerProcess
from tq_grpc._gen import common_pb2, development_pb2, projects_pb2, tasks_pb2
from tq_grpc._gen import development_pb2_grpc as dev_grpc

D = development_pb2
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
PENDING = common_pb2.TASK_STATUS_PENDING


def dev(srv: ServerProcess) -> dev_grpc.DevelopmentServiceStub:
    return dev_grpc.DevelopmentServiceStub(srv.channel)


def workflow(srv: ServerProcess, task_id: str) -> D.DevelopmentWorkflow:
    answer = dev(srv).GetDevelopmentWorkflow(
        D.GetDevelopmentWorkflowRequest(task_id=task_id)
    )
    return answer.workflow


def advance(srv: ServerProcess, task_id: str) -> D.DevelopmentWorkflow:
    return dev(srv).AdvancePhase(D.AdvancePhaseRequest(task_id=task_id)).workflow


def review(
    srv: ServerProcess, task_id: str, model: str, approved: bool = True
) -> D.DevelopmentWorkflow:
    request = D.AddReviewRequest(
        task_id=task_id,
        model_name=model,
        review_type=D.REVIEW_TYPE_CODE_QUALITY,
        content="looks fine" if approved else "needs work",
        score=0.9 if approved else 0.2,
        approved=approved,
        suggestions=["rename x"],
    )
    return dev(srv).AddReview(request).workflow


def refused(call: object) -> str:
    error = rpc_error(call)  # type: ignore[arg-type]
    assert code_of(error) == PRECONDITION, details_of(error)
    return details_of(error)


def project(srv: ServerProcess, **fields: object) -> str:
    request = projects_pb2.CreateProjectRequest(name="dev", **fields)  # type: ignore[arg-type]
    project_id: str = srv.projects.CreateProject(request).project.id
    return project_id


def test_every_gate_is_refused_then_passed(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    srv = shared_server
    marker = tmp_path / "tests-pass"
    command = f"test -e {shlex.quote(str(marker))}"
    project_id = project(srv, coverage_threshold=80, required_reviews=2)
    task = create_task(
        srv, "feature", command, project_id=project_id, development_workflow=True
    )
    tid = task.id
    assert task.development.phase == D.DEVELOPMENT_PHASE_PLANNING
    assert task.development.next_call == "set_technical_documentation"
    assert task.status == PENDING

    message = refused(lambda: advance(srv, tid))
    assert "no technical documentation path is set" in message
    doc = dev(srv).SetTechnicalDocumentation(
        D.SetTechnicalDocumentationRequest(task_id=tid, path="docs/feature.md")
    )
    assert doc.workflow.next_call == "advance_workflow_phase"
    assert list(doc.workflow.unmet_gates) == []
    assert advance(srv, tid).phase == D.DEVELOPMENT_PHASE_IMPLEMENTATION
    assert advance(srv, tid).phase == D.DEVELOPMENT_PHASE_TEST_CREATION
    refused(
        lambda: dev(srv).SetTestCoverage(
            D.SetTestCoverageRequest(task_id=tid, coverage_percentage=95)
        )
    )
    testing = advance(srv, tid)
    assert testing.phase == D.DEVELOPMENT_PHASE_TESTING

    ran = wait_until(
        lambda: (w := workflow(srv, tid)).test_run.HasField("exit_code") and w,
        what="the failing test run to end",
    )
    assert ran.test_run.exit_code == 1
    assert ran.next_call == "retry_task"
    message = refused(lambda: advance(srv, tid))
    assert "the test run exited 1" in message
    assert "no test coverage is reported" in message

    marker.touch()
    srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=tid))
    passed = wait_until(
        lambda: (
            (w := workflow(srv, tid)).test_run.HasField("exit_code")
            and w.test_run.exit_code == 0
            and w
        ),
        what="the passing test run",
    )
    assert passed.next_call == "set_test_coverage"
    low = dev(srv).SetTestCoverage(
        D.SetTestCoverageRequest(task_id=tid, coverage_percentage=70)
    )
    assert "below the project's threshold of 80%" in low.workflow.unmet_gates[0]
    assert "below the project's threshold of 80%" in refused(lambda: advance(srv, tid))
    dev(srv).SetTestCoverage(
        D.SetTestCoverageRequest(task_id=tid, coverage_percentage=85)
    )
    in_review = advance(srv, tid)
    assert in_review.phase == D.DEVELOPMENT_PHASE_AI_REVIEW
    assert in_review.next_call == "add_ai_review_report"

    review(srv, tid, "model-a")
    review(srv, tid, "model-a")
    assert "1 of 2 approving reviews" in refused(lambda: advance(srv, tid))
    rejected = review(srv, tid, "model-b", approved=False)
    assert rejected.phase == D.DEVELOPMENT_PHASE_IMPLEMENTATION
    assert rejected.review_round == 2
    assert not rejected.HasField("test_coverage_percentage")

    advance(srv, tid)
    assert advance(srv, tid).phase == D.DEVELOPMENT_PHASE_TESTING  # runs again
    wait_until(
        lambda: (w := workflow(srv, tid)).test_run.HasField("exit_code") and w,
        what="the second round's test run",
    )
    dev(srv).SetTestCoverage(
        D.SetTestCoverageRequest(task_id=tid, coverage_percentage=90)
    )
    advance(srv, tid)
    review(srv, tid, "model-a")
    ready = review(srv, tid, "model-c")
    assert ready.next_call == "advance_workflow_phase"
    done = advance(srv, tid)

    assert done.phase == D.DEVELOPMENT_PHASE_COMPLETED
    assert done.next_call == ""
    final = get_task(srv, tid)
    assert final.status == common_pb2.TASK_STATUS_COMPLETED
    history = srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=tid)).events
    reasons = [e.reason for e in history]
    assert "phase planning -> implementation; documentation docs/feature.md" in reasons
    assert any(r.startswith("review by model-b") and "rejected" in r for r in reasons)
    assert history[-1].phase == D.DEVELOPMENT_PHASE_COMPLETED


def test_following_next_call_never_hits_a_refusal(shared_server: ServerProcess) -> None:
    srv = shared_server
    task = create_task(srv, "guided", "true", development_workflow=True)
    tid, models = task.id, iter(["m1", "m2", "m3", "m4"])
    calls = {
        "set_technical_documentation": lambda: dev(srv).SetTechnicalDocumentation(
            D.SetTechnicalDocumentationRequest(task_id=tid, path="design.md")
        ),
        "advance_workflow_phase": lambda: advance(srv, tid),
        "set_test_coverage": lambda: dev(srv).SetTestCoverage(
            D.SetTestCoverageRequest(task_id=tid, coverage_percentage=100)
        ),
        "add_ai_review_report": lambda: review(srv, tid, next(models)),
        "get_task": lambda: wait_until(
            lambda: workflow(srv, tid).next_call != "get_task", what="the run"
        ),
    }
    seen = []

    for _ in range(30):
        state = workflow(srv, tid)
        if not state.next_call:
            break
        seen.append(state.next_call)
        calls[state.next_call]()

    assert workflow(srv, tid).phase == D.DEVELOPMENT_PHASE_COMPLETED
    assert seen.count("add_ai_review_report") == 3
    assert "retry_task" not in seen


def test_fail_and_reopen(shared_server: ServerProcess) -> None:
    srv = shared_server
    tid = create_task(srv, "doomed", development_workflow=True).id

    failed = (
        dev(srv)
        .FailDevelopment(
            D.FailDevelopmentRequest(task_id=tid, reason="requirements changed")
        )
        .workflow
    )

    assert failed.phase == D.DEVELOPMENT_PHASE_FAILED
    assert failed.failure_reason == "requirements changed"
    assert get_task(srv, tid).status == common_pb2.TASK_STATUS_FAILED
    assert "reopen it first" in refused(lambda: advance(srv, tid))
    reopened = (
        dev(srv).ReopenDevelopment(D.ReopenDevelopmentRequest(task_id=tid)).workflow
    )
    assert reopened.phase == D.DEVELOPMENT_PHASE_IMPLEMENTATION
    assert reopened.review_round == 2
    assert get_task(srv, tid).status == PENDING


def test_a_development_task_is_not_dispatched_before_testing(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    task = create_task(
        shared_server,
        "held",
        f"touch {shlex.quote(str(ran))}",
        development_workflow=True,
    )

    time.sleep(0.5)
    assert not ran.exists()
    current = get_task(shared_server, task.id)
    assert current.status == PENDING
    assert "development workflow in planning" in current.blocked_by


def test_bad_arguments_name_the_field(shared_server: ServerProcess) -> None:
    srv = shared_server
    tid = create_task(srv, "t", development_workflow=True).id
    cases = [
        (
            lambda: dev(srv).SetTestCoverage(
                D.SetTestCoverageRequest(task_id=tid, coverage_percentage=101)
            ),
            "coverage_percentage:",
        ),
        (
            lambda: dev(srv).AddReview(
                D.AddReviewRequest(task_id=tid, model_name="m", review_type=9, score=1)
            ),
            "review_type:",
        ),
        (
            lambda: dev(srv).AddReview(
                D.AddReviewRequest(
                    task_id=tid, model_name="m", review_type=1, score=1.5
                )
            ),
            "score:",
        ),
        (
            lambda: dev(srv).SetTechnicalDocumentation(
                D.SetTechnicalDocumentationRequest(task_id=tid, path="  ")
            ),
            "path:",
        ),
        (lambda: advance(srv, "nope"), "task_id:"),
    ]
    for call, field in cases:
        error = rpc_error(call)
        assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
        assert details_of(error).startswith(field), details_of(error)


def test_workflow_calls_on_a_plain_task_are_refused(
    shared_server: ServerProcess,
) -> None:
    tid = create_task(shared_server, "plain").id

    assert "not under the development workflow" in refused(
        lambda: advance(shared_server, tid)
    )


def test_cancelling_the_test_run_records_its_end(shared_server: ServerProcess) -> None:
    srv = shared_server
    tid = create_task(srv, "slow-tests", "sleep 30", development_workflow=True).id
    dev(srv).SetTechnicalDocumentation(
        D.SetTechnicalDocumentationRequest(task_id=tid, path="d.md")
    )
    for _ in range(3):
        advance(srv, tid)
    wait_until(lambda: workflow(srv, tid).test_run.running, what="the test run")

    answer = srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=tid)).task

    assert answer.status == common_pb2.TASK_STATUS_CANCELLED
    assert not answer.development.test_run.running
    assert answer.development.test_run.exit_code == answer.exit_code
    assert answer.development.next_call == "retry_task"
    resumed = srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=tid)).task
    assert resumed.development.phase == D.DEVELOPMENT_PHASE_TESTING


def test_an_ended_workflow_is_reopened_not_retried(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    tid = create_task(srv, "ended", development_workflow=True).id
    dev(srv).FailDevelopment(D.FailDevelopmentRequest(task_id=tid, reason="no"))

    message = refused(lambda: srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=tid)))

    assert "reopen it instead of retrying" in message
    assert get_task(srv, tid).status == common_pb2.TASK_STATUS_FAILED


def test_the_command_cannot_change_once_testing_has_begun(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    tid = create_task(srv, "tested", "true", development_workflow=True).id
    dev(srv).SetTechnicalDocumentation(
        D.SetTechnicalDocumentationRequest(task_id=tid, path="d.md")
    )
    for _ in range(3):
        advance(srv, tid)
    wait_until(
        lambda: workflow(srv, tid).test_run.HasField("exit_code"),
        what="the test run to end",
    )

    message = refused(
        lambda: srv.tasks.UpdateTask(
            tasks_pb2.UpdateTaskRequest(id=tid, command="exit 1")
        )
    )

    assert "is in testing" in message
    assert get_task(srv, tid).command == "true"


def test_one_model_under_different_spellings_approves_once(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    project_id = project(srv, required_reviews=2)
    tid = create_task(srv, "r", project_id=project_id, development_workflow=True).id
    dev(srv).SetTechnicalDocumentation(
        D.SetTechnicalDocumentationRequest(task_id=tid, path="d.md")
    )
    for _ in range(3):
        advance(srv, tid)
    dev(srv).SetTestCoverage(
        D.SetTestCoverageRequest(task_id=tid, coverage_percentage=95)
    )
    advance(srv, tid)

    for spelling in ("claude", " Claude", "claude\u200b", "CLAUDE  "):
        state = review(srv, tid, spelling)

    assert "1 of 2 approving reviews" in state.unmet_gates[0]
    error = rpc_error(lambda: review(srv, tid, "\u200b"))
    assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT


def test_twenty_racing_advances_from_one_phase_move_it_once(
    shared_server: ServerProcess,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    srv = shared_server
    tid = create_task(srv, "raced", development_workflow=True).id
    dev(srv).SetTechnicalDocumentation(
        D.SetTechnicalDocumentationRequest(task_id=tid, path="d.md")
    )
    request = D.AdvancePhaseRequest(
        task_id=tid, from_phase=D.DEVELOPMENT_PHASE_PLANNING
    )

    def attempt(_: int) -> bool:
        try:
            dev(srv).AdvancePhase(request)
        except grpc.RpcError as exc:
            assert exc.code() == PRECONDITION
            assert "already been advanced" in (exc.details() or "")
            return False
        return True

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))

    assert outcomes.count(True) == 1
    assert workflow(srv, tid).phase == D.DEVELOPMENT_PHASE_IMPLEMENTATION
