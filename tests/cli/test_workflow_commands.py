"""Dependencies, retries, workflows and pause in the CLI, over a fake client."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from taskqueue.cli import main
from taskqueue.cli.workflows import read_document
from taskqueue.errors import ConflictError, ValidationError
from taskqueue.models import Dependency, Stats
from tests.cli.fakes import (
    TASK_ID,
    WORKFLOW_ID,
    FakeBackend,
    make_task,
    make_workflow,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workflow.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


# tasks create / update / get / delete


def test_create_sends_dependencies_retries_and_start_after(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(
        capsys,
        "tasks", "create", "--name", "n", "--command", "true",
        "--depends-on", "id1", "--depends-on", "id2:failure",
        "--depends-on", "id3:COMPLETION", "--max-retries", "3",
        "--retry-delay", "2.5", "--start-after", "2030-01-02T03:04:05+02:00",
    )  # fmt: skip

    _, _, kwargs = backend.last_call()
    assert code == 0
    assert kwargs["depends_on"] == (
        Dependency("id1", "success"),
        Dependency("id2", "failure"),
        Dependency("id3", "completion"),
    )
    assert kwargs["max_retries"] == 3
    assert kwargs["retry_delay_seconds"] == 2.5
    assert kwargs["start_after"] == datetime(2030, 1, 2, 1, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--depends-on", "id1:sometimes", "is not ID or ID:CONDITION"),
        ("--depends-on", ":failure", "is not ID or ID:CONDITION"),
        ("--start-after", "2030-01-02T03:04:05", "has no UTC offset"),
        ("--start-after", "soon", "is not an RFC 3339 time"),
        ("--retry-delay", "-1", "--retry-delay"),
    ],
)
def test_bad_policy_options_are_usage_errors(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    code, _, err = run(capsys, "tasks", "create", "--name", "n", option, value)

    assert code == 2
    assert message in err
    assert backend.calls == []


def test_update_replaces_or_clears_dependencies_and_start_after(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "tasks", "update", TASK_ID, "--depends-on", "d1:completion",
        "--start-after", "2030-01-01T00:00:00Z", "--retry-delay", "4")  # fmt: skip
    _, _, replaced = backend.last_call()
    run(capsys, "tasks", "update", TASK_ID, "--clear-depends-on", "--clear-start-after")
    _, _, cleared = backend.last_call()
    run(capsys, "tasks", "update", TASK_ID, "--name", "x")
    _, _, untouched = backend.last_call()

    assert replaced["depends_on"] == (Dependency("d1", "completion"),)
    assert replaced["start_after"] == datetime(2030, 1, 1, tzinfo=UTC)
    assert replaced["retry_delay_seconds"] == 4.0
    assert not replaced["clear_start_after"]
    assert cleared["depends_on"] == ()
    assert cleared["clear_start_after"]
    assert untouched["depends_on"] is None
    assert untouched["start_after"] is None


@pytest.mark.parametrize(
    "args",
    [
        ("--depends-on", "d1", "--clear-depends-on"),
        ("--start-after", "2030-01-01T00:00:00Z", "--clear-start-after"),
    ],
)
def test_update_refuses_a_value_and_its_clearing_together(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, "tasks", "update", TASK_ID, *args)

    assert code == 2
    assert "not both" in err
    assert backend.calls == []


def test_get_shows_blocked_by_only_while_the_task_waits(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = "waiting for dependency d1 (fetch) to complete; it is running"
    backend.answers["get_task"] = make_task(
        status="waiting_for_dependencies", blocked_by=reason, workflow_id="w1"
    )
    _, waiting, _ = run(capsys, "tasks", "get", TASK_ID)
    backend.answers["get_task"] = make_task(status="completed")
    _, done, _ = run(capsys, "tasks", "get", TASK_ID)
    _, as_json, _ = run(capsys, "tasks", "get", TASK_ID, "-o", "json")

    assert ["blocked_by", *reason.split()] in rows(waiting)
    assert ["workflow_id", "w1"] in rows(waiting)
    assert "blocked_by" not in done
    assert "workflow_id" not in done
    assert json.loads(as_json)["blocked_by"] == ""


def test_delete_cascade_lists_every_task_deleted(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["delete_task"] = [TASK_ID, "dep-1", "dep-2"]

    code, out, _ = run(capsys, "tasks", "delete", TASK_ID, "--cascade")
    _, as_json, _ = run(capsys, "tasks", "delete", TASK_ID, "--cascade", "-o", "json")

    assert code == 0
    assert backend.last_call() == ("delete_task", (TASK_ID, True), {})
    assert out == (
        f"Deleted task {TASK_ID} and 2 task(s) depending on it: dep-1, dep-2\n"
    )
    assert json.loads(as_json)["deleted_ids"] == [TASK_ID, "dep-1", "dep-2"]


def test_delete_without_cascade_of_a_dependency_suggests_cascade(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["delete_task"] = ConflictError(
        f"Task {TASK_ID} has 2 dependent task(s); delete them first or cascade.",
        code=grpc.StatusCode.FAILED_PRECONDITION,
    )

    code, out, err = run(capsys, "tasks", "delete", TASK_ID)

    assert (code, out) == (1, "")
    assert err.startswith(f"Error: Task {TASK_ID} has 2 dependent task(s)")
    assert err.rstrip().endswith(f"task-queue tasks delete {TASK_ID} --cascade")
    assert backend.last_call() == ("delete_task", (TASK_ID, False), {})


# workflows


def test_create_reads_the_yaml_file_and_runs_tasks_in_the_current_directory(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    document = yaml.safe_load(EXAMPLE.read_text())
    document["tasks"][0]["working_dir"] = "sub"
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(document))

    code, out, _ = run(capsys, "workflows", "create", "-f", "w.yaml", "--project", "p1")

    name, args, kwargs = backend.last_call()
    sent = args[0]
    assert (code, name, kwargs) == (0, "create_workflow", {"project_id": "p1"})
    assert [task["key"] for task in sent["tasks"]] == [
        task["key"] for task in document["tasks"]
    ]
    assert sent["tasks"][0]["working_dir"] == str(tmp_path / "sub")
    assert {task["working_dir"] for task in sent["tasks"][1:]} == {str(tmp_path)}
    assert rows(out)[0] == ["id", WORKFLOW_ID]


def test_create_reads_json_from_stdin(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = {"name": "w", "tasks": [{"key": "a", "command": "true"}]}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(document)))

    code, out, _ = run(capsys, "workflows", "create", "-f", "-", "-o", "json")

    _, args, _ = backend.last_call()
    assert code == 0
    assert args[0]["name"] == "w"
    assert json.loads(out)["id"] == WORKFLOW_ID


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: w\ntasks:\n  - key: a\n    command: x\n  - key: b\n    comand: y\n",
            "w.yaml: tasks[1].comand: unknown field; did you mean command?",
        ),
        ("name: w\ntasks: [\n", "w.yaml: not valid YAML or JSON"),
        ('{"name": "w", "tasks": [}', "w.yaml: not valid YAML or JSON"),
        ("- a\n- b\n", "w.yaml: expected a workflow document"),
        (
            "name: w\ntasks: [{key: a, start_after: 2030-01-02T03:04:05}]\n",
            "w.yaml: tasks[0].start_after: '2030-01-02T03:04:05' has no UTC offset",
        ),
    ],
)
def test_a_bad_document_names_the_file_and_field_and_sends_nothing(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    text: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("w.yaml").write_text(text)

    code, out, err = run(capsys, "workflows", "create", "-f", "w.yaml")

    assert (code, out) == (1, "")
    assert err.startswith(f"Error: {message}")
    assert backend.calls == []


def test_create_without_a_file_is_a_usage_error(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "workflows", "create", "-f", "/no/such/file.yaml")

    assert code == 2
    assert "/no/such/file.yaml" in err


def test_get_shows_each_task_with_its_reason_and_the_edges(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "workflows", "get", WORKFLOW_ID)

    lines = rows(out)
    assert code == 0
    assert ["status", "running"] in lines
    assert ["progress", "1/2", "ended", "(1", "completed),", "1", "waiting"] in lines
    assert ["KEY", "TASK_ID", "NAME", "STATUS", "EXIT_CODE", "REASON"] in lines
    assert ["a", "t-a", "a", "completed", "0"] in lines
    reason = "waiting for dependency t-a (a) to complete; it is running"
    assert ["b", "t-b", "b", "waiting_for_dependencies", *reason.split(" ")] in lines
    assert ["FROM", "TO", "CONDITION"] in lines
    assert ["a", "b", "success"] in lines


def test_get_as_json_carries_keyed_tasks_and_edges(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "workflows", "get", WORKFLOW_ID, "-o", "json")

    data = json.loads(out)
    assert [item["key"] for item in data["tasks"]] == ["a", "b"]
    assert data["tasks"][1]["task"]["status"] == "waiting_for_dependencies"
    assert data["progress"]["waiting_for_dependencies"] == 1
    assert data["edges"][0] == {
        "source_key": "a",
        "target_key": "b",
        "source_task_id": "t-a",
        "target_task_id": "t-b",
        "condition": "success",
    }


def test_list_passes_the_project_and_shows_progress(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["list_workflows"] = [make_workflow(tasks=(), edges=())]

    code, out, _ = run(capsys, "workflows", "list", "--project", "p1", "--limit", "5")

    assert code == 0
    assert backend.last_call() == ("list_workflows", ("p1", 5), {})
    assert rows(out)[0] == [
        "ID",
        "NAME",
        "STATUS",
        "PROGRESS",
        "PROJECT_ID",
        "CREATED_AT",
    ]
    assert rows(out)[1][:5] == [WORKFLOW_ID, "build", "running", "1/2", "ended"]


@pytest.mark.parametrize(
    ("status", "expected"), [("completed", 0), ("failed", 1), ("cancelled", 1)]
)
def test_wait_exits_0_only_when_completed_and_draws_no_progress_when_piped(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    status: str,
    expected: int,
) -> None:
    final = make_workflow(status=status)

    def wait_workflow(
        workflow_id: str, timeout: float | None, on_change: Any, **_: Any
    ) -> Any:
        on_change(make_workflow())
        on_change(final)
        return final

    backend.answers["wait_workflow"] = wait_workflow

    code, out, err = run(capsys, "workflows", "wait", WORKFLOW_ID, "--timeout", "9")

    assert code == expected
    assert backend.last_call()[1] == (WORKFLOW_ID, 9.0)
    assert err == ""
    assert ["status", status] in rows(out)


def test_wait_that_times_out_exits_1(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["wait_workflow"] = TimeoutError(
        f"Workflow {WORKFLOW_ID} is still running after 1s (1 of 2 tasks ended)."
    )

    code, _, err = run(capsys, "workflows", "wait", WORKFLOW_ID, "--timeout", "1")

    assert code == 1
    assert err == (
        f"Error: Workflow {WORKFLOW_ID} is still running after 1s "
        "(1 of 2 tasks ended).\n"
    )


def test_cancel_and_retry_reach_the_client(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "workflows", "cancel", WORKFLOW_ID, "--reason", "not today")
    cancel = backend.last_call()
    run(capsys, "workflows", "retry", WORKFLOW_ID)
    retry = backend.last_call()

    assert cancel == ("cancel_workflow", (WORKFLOW_ID, "not today"), {})
    assert retry == ("retry_workflow", (WORKFLOW_ID,), {})


# server pause / resume


def test_pause_and_resume_say_what_they_did(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    paused = run(capsys, "server", "pause")
    resumed = run(capsys, "server", "resume", "-o", "json")

    assert paused[0] == 0
    assert paused[1].startswith("Queue paused: running tasks go on")
    assert resumed[0] == 0
    assert json.loads(resumed[1]) == {"paused": False}


def test_status_shows_whether_the_queue_is_paused(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["stats"] = Stats({}, 0, 0, 0, 0, 1, 0.0, "test", paused=True)

    _, table, _ = run(capsys, "server", "status")
    _, as_json, _ = run(capsys, "server", "status", "-o", "json")
    _, metrics, _ = run(capsys, "server", "metrics")

    assert ["paused", "yes"] in rows(table)
    assert json.loads(as_json)["paused"] is True
    assert ["queue_paused", "1"] in rows(metrics)


def test_help_lists_workflows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")

    assert code == 0
    assert "workflows" in out


def test_a_document_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfename: x\n")

    with bad.open() as source, pytest.raises(ValidationError) as caught:
        read_document(source)

    assert "bad.yaml: not UTF-8 text" in str(caught.value)
