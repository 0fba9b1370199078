"""Both clients against a real server: every kind of call, streams and waits."""

from __future__ import annotations

import inspect
import shlex
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from taskqueue import (
    AsyncTaskQueueClient,
    ConflictError,
    DevelopmentWorkflow,
    ProjectNotFoundError,
    Task,
    TaskEvent,
    TaskNotFoundError,
    TaskQueueClient,
    ValidationError,
)
from tests.server_process import ServerProcess

WAIT = 30


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, which grpc.aio needs."""
    return "asyncio"


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


def test_the_async_client_mirrors_every_method_and_argument() -> None:
    sync = public_methods(TaskQueueClient)
    asynchronous = public_methods(AsyncTaskQueueClient)

    assert set(sync) == set(asynchronous)
    for name, signature in sync.items():
        assert list(signature.parameters) == list(asynchronous[name].parameters), name


def test_every_method_takes_a_per_call_timeout() -> None:
    waits = {"wait", "wait_workflow", "close"}
    for name, signature in public_methods(TaskQueueClient).items():
        if name not in waits:
            assert "timeout" in signature.parameters, name


# Development workflow


def make_project(client: TaskQueueClient, **gates: Any) -> str:
    return client.create_project(f"dev {uuid.uuid4()}", **gates).id


def test_the_development_workflow_runs_every_phase_through_the_sync_client(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    marker = tmp_path / "passes"
    command = f"test -e {shlex.quote(str(marker))}"
    with TaskQueueClient(shared_server.target) as client:
        project = make_project(client, coverage_threshold=80, required_reviews=2)
        task = client.create_task(
            "feature", command, project_id=project, development_workflow=True
        )
        assert task.development is not None
        assert task.development.phase == "planning"
        assert task.development.next_call == "set_technical_documentation"
        assert (
            task.development.coverage_threshold,
            task.development.required_reviews,
        ) == (80, 2)

        with pytest.raises(ConflictError, match="no technical documentation"):
            client.advance_phase(task.id)
        planned = client.set_technical_documentation(task.id, "docs/feature.md")
        assert planned.technical_documentation_path == "docs/feature.md"
        assert planned.unmet_gates == ()
        assert client.advance_phase(task.id).phase == "implementation"
        assert client.advance_phase(task.id).phase == "test_creation"
        testing = client.advance_phase(task.id)
        assert testing.phase == "testing"

        failed_run = wait_for(
            lambda: (
                (w := client.get_development_workflow(task.id)).test_run
                and w.test_run.exit_code is not None
                and w
            )
        )
        assert failed_run.test_run is not None
        assert failed_run.test_run.exit_code == 1
        assert failed_run.next_call == "retry_task"
        marker.touch()
        client.retry_task(task.id)
        passed = wait_for(lambda: passing_run(client, task.id, after=0))
        low = client.set_test_coverage(task.id, 70)
        assert low.test_coverage_percentage == 70
        assert any("below" in gate for gate in low.unmet_gates)
        client.set_test_coverage(task.id, 85.5)
        assert client.advance_phase(task.id).phase == "ai_review"

        rejected = client.add_review(
            task.id, "model-a", "security", "unsafe", 0.2, False, ["fix it"]
        )
        assert rejected.phase == "implementation"
        assert rejected.review_round == 2
        review = rejected.ai_review_reports[0]
        assert (review.model_name, review.review_type, review.approved) == (
            "model-a",
            "security",
            False,
        )
        assert review.suggestions == ("fix it",)
        assert client.advance_phase(task.id).phase == "test_creation"
        assert client.advance_phase(task.id).phase == "testing"
        wait_for(lambda: passing_run(client, task.id, after=passed.test_run.attempt))
        client.set_test_coverage(task.id, 90)
        assert client.advance_phase(task.id).phase == "ai_review"
        client.add_review(task.id, "model-a", "code_quality", "ok", 0.9, True)
        second = client.add_review(task.id, "model-b", "testing", "ok", 0.8, True)
        assert second.approvals == ("model-a", "model-b")
        done = client.advance_phase(task.id)
        assert done.phase == "completed"
        assert done.ended
        assert done.next_call == ""
        phases = [event.phase for event in client.task_history(task.id)]
        assert phases[0] == "planning"
        assert phases[-1] == "completed"

        reopened = client.reopen_development(task.id)
        assert reopened.phase == "implementation"
        failed = client.fail_development(task.id, "abandoned")
        assert failed.phase == "failed"
        assert failed.failure_reason == "abandoned"
        assert isinstance(client.get_task(task.id).development, DevelopmentWorkflow)


def test_development_calls_refuse_tasks_outside_the_workflow(
    shared_server: ServerProcess,
) -> None:
    with TaskQueueClient(shared_server.target) as client:
        plain = client.create_task("plain")
        with pytest.raises(ConflictError):
            client.get_development_workflow(plain.id)
        with pytest.raises(TaskNotFoundError):
            client.advance_phase(str(uuid.uuid4()))
        with pytest.raises(ValidationError, match="review_type"):
            client.add_review(plain.id, "m", "vibes", "", 0.5, True)

    assert plain.development is None


def passing_run(
    client: TaskQueueClient, task_id: str, *, after: int
) -> DevelopmentWorkflow | None:
    """Return the workflow once a test run later than attempt ``after`` passed."""
    workflow = client.get_development_workflow(task_id)
    run = workflow.test_run
    if run is not None and run.attempt > after and run.exit_code == 0:
        return workflow
    return None


def wait_for(probe: Any, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# Streams and waits


def test_follow_logs_yields_output_as_it_is_written_until_the_end(
    shared_server: ServerProcess,
) -> None:
    with TaskQueueClient(shared_server.target) as client:
        task = client.create_task("talk", "echo one; sleep 0.3; echo two")
        chunks = list(client.follow_logs(task.id))
        again = list(client.follow_log(task.id, offset=4))

    assert b"".join(chunks) == b"one\ntwo\n"
    assert b"".join(again) == b"two\n"


def test_follow_logs_with_a_timeout_stops_a_task_that_goes_on(
    shared_server: ServerProcess,
) -> None:
    with TaskQueueClient(shared_server.target) as client:
        task = client.create_task("long", "echo start; sleep 30")
        try:
            received = []
            with pytest.raises(TimeoutError):
                for chunk in client.follow_logs(task.id, timeout=1):
                    received.append(chunk)
        finally:
            client.cancel_task(task.id, "test over")

    assert b"".join(received) == b"start\n"


def test_watch_yields_the_transitions_of_the_tasks_named(
    shared_server: ServerProcess,
) -> None:
    events: list[TaskEvent] = []
    with TaskQueueClient(shared_server.target) as client:
        task = client.create_task("watched", "sleep 0.5")
        started = threading.Event()

        def collect() -> None:
            started.set()
            for event in client.watch([task.id], timeout=WAIT):
                events.append(event)
                if event.to_status == "completed":
                    return

        thread = threading.Thread(target=collect)
        thread.start()
        started.wait()
        thread.join(WAIT)

    assert not thread.is_alive()
    assert events[-1].task_id == task.id
    assert events[-1].to_status == "completed"
    assert events[-1].exit_code == 0


def test_watch_with_a_timeout_ends_quietly(shared_server: ServerProcess) -> None:
    with TaskQueueClient(shared_server.target) as client:
        began = time.monotonic()
        quiet = list(client.watch([str(uuid.uuid4())], timeout=0.5))

    assert quiet == []
    assert 0.4 < time.monotonic() - began < 10


def test_wait_reports_each_change_and_returns_the_ended_task(
    shared_server: ServerProcess,
) -> None:
    seen: list[Task] = []
    with TaskQueueClient(shared_server.target) as client:
        task = client.create_task("fails", "sleep 0.3; exit 3")
        ended = client.wait(task.id, timeout=WAIT, on_change=seen.append)
        with pytest.raises(TimeoutError, match="still pending"):
            client.wait(client.create_task("tracked").id, timeout=0.2)

    assert ended.status == "failed"
    assert ended.exit_code == 3
    assert seen[-1] == ended
    assert len({(t.status, t.attempt) for t in seen}) == len(seen)


def test_projects_change_list_their_tasks_and_go(shared_server: ServerProcess) -> None:
    with TaskQueueClient(shared_server.target) as client:
        project = client.create_project("p", "first", tags=["a"])
        changed = client.update_project(
            project.id, description="second", status="on_hold", tags=["b", "c"]
        )
        held = client.create_task("held", "true", project_id=project.id)
        listed = client.list_project_tasks(project.id)
        with pytest.raises(ConflictError):
            client.delete_project(project.id)
        deleted = client.delete_project(project.id, cascade=True)
        with pytest.raises(ProjectNotFoundError):
            client.get_project(project.id)

    assert (changed.description, changed.status, changed.tags) == (
        "second",
        "on_hold",
        ("b", "c"),
    )
    assert [task.id for task in listed] == [held.id]
    assert deleted == 1


def test_projects_count_their_tasks_and_activity_lists_finishes(
    shared_server: ServerProcess,
) -> None:
    with TaskQueueClient(shared_server.target) as client:
        project = client.create_project("counted")
        ran = client.create_task("ran", "exit 2", project_id=project.id)
        client.create_task("waits", project_id=project.id)
        client.wait(ran.id, timeout=WAIT)
        counted = client.get_project(project.id)
        activity = client.activity(max_events=5)

    assert counted.tasks_by_status["failed"] == 1
    assert counted.tasks_by_status["pending"] == 1
    assert len(activity.minutes) == 60
    assert sum(m.failed for m in activity.minutes) >= 1
    assert len(activity.recent_events) == 5
    assert activity.recent_events[0].seq > activity.recent_events[-1].seq
    assert activity.since is not None


def test_the_server_calls_answer(shared_server: ServerProcess) -> None:
    with TaskQueueClient(shared_server.target) as client:
        assert client.health() == "SERVING"
        assert client.ping().version
        stats = client.stats()
        assert client.pause_queue() is True
        assert client.stats().paused
        assert client.resume_queue() is False

    assert stats.total_tasks >= 0
    assert stats.slots == 2


# The async client


@pytest.mark.anyio
async def test_the_async_client_covers_projects_health_streams_and_development(
    shared_server: ServerProcess,
) -> None:
    async with AsyncTaskQueueClient(shared_server.target) as client:
        assert await client.health() == "SERVING"
        project = await client.create_project("async", required_reviews=1)
        changed = await client.update_project(project.id, name="async 2")
        task = await client.create_task(
            "talk", "echo a; sleep 0.2; echo b", project_id=project.id
        )
        chunks = [chunk async for chunk in client.follow_logs(task.id)]
        events = [event async for event in client.watch([task.id], timeout=0.3)]
        ended = await client.wait(task.id, timeout=WAIT)
        listed = await client.list_project_tasks(project.id, status="completed")

        dev = await client.create_task(
            "dev", project_id=project.id, development_workflow=True
        )
        with pytest.raises(ConflictError):
            await client.advance_phase(dev.id)
        await client.set_technical_documentation(dev.id, "docs/dev.md")
        for phase in ("implementation", "test_creation", "testing"):
            assert (await client.advance_phase(dev.id)).phase == phase
        await client.set_test_coverage(dev.id, 95)
        assert (await client.advance_phase(dev.id)).phase == "ai_review"
        await client.add_review(dev.id, "m", "architecture", "fine", 1.0, True)
        assert (await client.advance_phase(dev.id)).phase == "completed"
        assert (await client.get_development_workflow(dev.id)).ended
        assert (await client.reopen_development(dev.id)).phase == "implementation"
        assert (await client.fail_development(dev.id, "no")).phase == "failed"

        deleted = await client.delete_project(project.id, cascade=True)
        with pytest.raises(ProjectNotFoundError):
            await client.get_project(project.id)

    assert changed.name == "async 2"
    assert b"".join(chunks) == b"a\nb\n"
    assert events == [] or all(event.task_id == task.id for event in events)
    assert ended.status == "completed"
    assert [t.id for t in listed] == [task.id]
    assert deleted == 2
