"""Dependencies, retries, workflows and pause in the SDK, against a real server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from taskqueue import (
    AsyncTaskQueueClient,
    ConflictError,
    Dependency,
    NotFoundError,
    TaskNotFoundError,
    TaskQueueClient,
    ValidationError,
    Workflow,
)
from tests.server_process import ServerFactory, ServerProcess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workflow.yaml"
WAIT = 60.0


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, which grpc.aio needs."""
    return "asyncio"


@pytest.fixture
def client(shared_server: ServerProcess) -> Iterator[TaskQueueClient]:
    with TaskQueueClient(shared_server.target) as found:
        yield found


def example(working_dir: Path) -> dict[str, object]:
    document = yaml.safe_load(EXAMPLE.read_text())
    for task in document["tasks"]:
        task["working_dir"] = str(working_dir)
    return document  # type: ignore[no-any-return]


# Workflows, sync client


def test_a_workflow_from_a_name_and_tasks_runs_and_reports_progress(
    client: TaskQueueClient, tmp_path: Path
) -> None:
    created = client.create_workflow(
        "pipeline",
        tasks=[
            {
                "key": "one",
                "command": "echo one >> order",
                "working_dir": str(tmp_path),
            },
            {
                "key": "two",
                "command": "echo two >> order",
                "working_dir": str(tmp_path),
                "depends_on": ["one"],
            },
            {
                "key": "three",
                "command": "echo three >> order",
                "working_dir": str(tmp_path),
                "depends_on": [{"key": "two", "condition": "completion"}],
            },
        ],
        description="three in a row",
    )
    seen: list[Workflow] = []

    done = client.wait_workflow(created.id, timeout=WAIT, on_change=seen.append)

    assert [key for key, _ in created.tasks] == ["one", "two", "three"]
    assert created.description == "three in a row"
    assert created.progress.total == 3
    assert [(e.source_key, e.target_key, e.condition) for e in created.edges] == [
        ("one", "two", "success"),
        ("two", "three", "completion"),
    ]
    assert done.status == "completed"
    assert done.progress.completed == 3
    assert seen[-1] == done
    assert [w.progress.ended for w in seen] == sorted(w.progress.ended for w in seen)
    assert (tmp_path / "order").read_text() == "one\ntwo\nthree\n"


def test_list_workflows_pages_and_filters_by_project(
    client: TaskQueueClient, tmp_path: Path
) -> None:
    project = client.create_project("workflow project")
    inside = client.create_workflow(example(tmp_path), project_id=project.id)
    outside = client.create_workflow(example(tmp_path))

    of_project = client.list_workflows(project_id=project.id)
    everything = client.list_workflows()
    first_only = client.list_workflows(limit=1)

    assert [w.id for w in of_project] == [inside.id]
    assert of_project[0].tasks == ()
    assert of_project[0].project_id == project.id
    assert all(task.project_id == project.id for _, task in inside.tasks)
    assert {inside.id, outside.id} <= {w.id for w in everything}
    assert len(first_only) == 1
    client.wait_workflow(inside.id, timeout=WAIT)
    client.wait_workflow(outside.id, timeout=WAIT)


def test_a_missing_workflow_is_not_found_and_not_a_missing_task(
    client: TaskQueueClient,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_workflow(str(uuid.uuid4()))

    assert not isinstance(caught.value, TaskNotFoundError)


def test_wait_workflow_times_out_with_the_progress(
    client: TaskQueueClient, tmp_path: Path
) -> None:
    created = client.create_workflow(
        "slow", tasks=[{"key": "s", "command": "sleep 30"}]
    )
    started = time.monotonic()

    with pytest.raises(TimeoutError, match=r"\(0 of 1 tasks ended\)"):
        client.wait_workflow(created.id, timeout=0.5)

    assert time.monotonic() - started < 5
    cancelled = client.cancel_workflow(created.id, reason="test over")
    assert cancelled.status == "cancelled"
    assert cancelled.task("s").status_reason == "test over"


def test_a_basic_read_outlines_the_tasks(
    client: TaskQueueClient, tmp_path: Path
) -> None:
    created = client.create_workflow(example(tmp_path))
    done = client.wait_workflow(created.id, timeout=WAIT)

    basic = client.get_workflow(created.id, view="basic")

    assert basic.status == done.status == "completed"
    assert basic.progress == done.progress
    assert [(key, t.id, t.name, t.status) for key, t in basic.tasks] == [
        (key, t.id, t.name, t.status) for key, t in done.tasks
    ]
    assert all(t.command == "" for _, t in basic.tasks)
    assert {(e.source_key, e.target_key, e.condition) for e in basic.edges} == {
        (e.source_key, e.target_key, e.condition) for e in done.edges
    }
    with pytest.raises(ValidationError, match="view"):
        client.get_workflow(created.id, view="outline")


# Workflows, async client


@pytest.mark.anyio
async def test_the_async_client_creates_waits_cancels_and_retries(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    async with AsyncTaskQueueClient(shared_server.target) as client:
        done = await client.wait_workflow(
            (await client.create_workflow(example(tmp_path))).id, timeout=WAIT
        )
        failing = await client.create_workflow(
            "failing",
            tasks=[
                {"key": "bad", "command": "exit 2"},
                {"key": "after", "command": "true", "depends_on": ["bad"]},
            ],
        )
        failed = await client.wait_workflow(failing.id, timeout=WAIT)
        retried = await client.retry_workflow(failing.id)
        failed_again = await client.wait_workflow(failing.id, timeout=WAIT)
        listed = await client.list_workflows()
        fetched = await client.get_workflow(done.id)
        outlined = await client.get_workflow(done.id, view="basic")

    assert done.status == "completed"
    assert fetched.task("report-failure").status == "cancelled"
    assert outlined.task("report-failure").status == "cancelled"
    assert outlined.task("report-failure").command == ""
    assert failed.status == "failed"
    assert failed.task("after").status == "cancelled"
    assert failed.task("bad").id in failed.task("after").status_reason
    assert retried.status in ("pending", "running", "failed")
    assert failed_again.task("bad").attempt == 2
    assert {done.id, failing.id} <= {w.id for w in listed}


# Dependencies, retries and delayed starts of single tasks


def test_each_form_of_dependency_holds_a_task_until_its_condition(
    client: TaskQueueClient,
) -> None:
    ok = client.create_task("ok", "true")
    bad = client.create_task("bad", "exit 1")
    either = client.create_task("either", "exit 5")
    dependent = client.create_task(
        "dependent",
        "true",
        depends_on=[
            ok.id,
            (bad.id, "failure"),
            {"task_id": either.id, "condition": "completion"},
        ],
    )
    never = client.create_task(
        "never", "true", depends_on=[Dependency(ok.id, "failure")]
    )

    ran = client.wait(dependent.id, timeout=WAIT)
    cancelled = client.wait(never.id, timeout=WAIT)

    assert ran.status == "completed"
    assert [(d.task_id, d.condition) for d in ran.depends_on] == [
        (ok.id, "success"),
        (bad.id, "failure"),
        (either.id, "completion"),
    ]
    assert ran.started_at is not None
    assert ran.started_at >= client.get_task(bad.id).finished_at  # type: ignore[operator]
    assert cancelled.status == "cancelled"
    assert ok.id in cancelled.status_reason
    assert cancelled.started_at is None


def test_a_waiting_task_says_what_blocks_it_and_update_can_release_it(
    client: TaskQueueClient,
) -> None:
    later = datetime.now(UTC) + timedelta(days=365)
    held = client.create_task("held", "true", start_after=later)
    waiting = client.create_task("waiting", "true", depends_on=[held.id])

    held_now = client.get_task(held.id)
    waiting_now = client.get_task(waiting.id)
    released = client.update_task(waiting.id, depends_on=[])
    started = client.update_task(held.id, clear_start_after=True)

    assert held_now.start_after is not None
    assert abs((held_now.start_after - later).total_seconds()) < 0.001
    assert "start_after" in held_now.blocked_by
    assert waiting_now.status == "waiting_for_dependencies"
    assert held.id in waiting_now.blocked_by
    assert released.depends_on == ()
    assert started.start_after is None
    assert client.wait(waiting.id, timeout=WAIT).status == "completed"
    assert client.wait(held.id, timeout=WAIT).status == "completed"


def test_a_start_after_in_rfc3339_text_is_kept(client: TaskQueueClient) -> None:
    task = client.create_task("later", "true", start_after="2099-01-02T03:04:05+02:00")

    assert task.start_after == datetime(2099, 1, 2, 1, 4, 5, tzinfo=UTC)
    client.cancel_task(task.id)


def test_a_failed_run_is_retried_until_max_retries(
    client: TaskQueueClient, tmp_path: Path
) -> None:
    task = client.create_task(
        "flaky",
        "test -e marker || { touch marker; exit 1; }",
        working_dir=str(tmp_path),
        max_retries=2,
        retry_delay_seconds=0.2,
    )
    always = client.create_task(
        "always failing", "exit 4", max_retries=1, retry_delay_seconds=0.1
    )

    done = client.wait(task.id, timeout=WAIT)
    failed = client.wait(always.id, timeout=WAIT)

    assert (done.status, done.attempt) == ("completed", 2)
    assert (done.max_retries, done.retry_delay_seconds) == (2, 0.2)
    assert (failed.status, failed.attempt, failed.exit_code) == ("failed", 2, 4)


def test_delete_needs_cascade_for_a_task_others_depend_on(
    client: TaskQueueClient,
) -> None:
    first = client.create_task("first", "true", start_after="2099-01-01T00:00:00Z")
    second = client.create_task("second", "true", depends_on=[first.id])

    with pytest.raises(ConflictError, match="dependent"):
        client.delete_task(first.id)
    deleted = client.delete_task(first.id, cascade=True)
    alone = client.create_task("alone", "")

    assert deleted == [first.id, second.id]
    with pytest.raises(TaskNotFoundError):
        client.get_task(second.id)
    assert client.delete_task(alone.id) == [alone.id]


# Pause and resume


def test_pause_holds_new_tasks_and_survives_a_restart(server: ServerFactory) -> None:
    process = server()
    with TaskQueueClient(process.target) as client:
        assert client.pause_queue() is True
        task = client.create_task("held", "true")
        time.sleep(0.5)
        held = client.get_task(task.id)
        paused = client.stats().paused

    process.restart()
    with TaskQueueClient(process.target) as client:
        still_paused = client.stats().paused
        assert client.resume_queue() is False
        done = client.wait(task.id, timeout=WAIT)
        resumed = client.stats().paused

    assert (held.status, paused, still_paused, resumed) == (
        "pending",
        True,
        True,
        False,
    )
    assert "paus" in held.blocked_by.lower()
    assert done.status == "completed"


@pytest.mark.anyio
async def test_the_async_client_pauses_and_resumes(server: ServerFactory) -> None:
    process = server()
    async with AsyncTaskQueueClient(process.target) as client:
        paused = await client.pause_queue()
        stats = await client.stats()
        resumed = await client.resume_queue()
        task = await client.create_task("after resume", "true")
        done = await client.wait(task.id, timeout=WAIT)
        deleted = await client.delete_task(task.id)

    assert (paused, stats.paused, resumed) == (True, True, False)
    assert done.status == "completed"
    assert deleted == [task.id]
