"""``tasks dev …`` and ``tasks create --development-workflow``.

Option handling over the fake client, then one whole workflow through the
command line against a real server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taskqueue.cli import main
from taskqueue.cli.dev import next_command
from taskqueue.errors import ConflictError
from taskqueue.models import DevelopmentWorkflow
from tests.cli.fakes import TASK_ID, FakeBackend, make_task
from tests.server_process import ServerProcess


def make_development(**changes: Any) -> DevelopmentWorkflow:
    fields: dict[str, Any] = {
        "task_id": TASK_ID,
        "phase": "planning",
        "technical_documentation_path": None,
        "test_coverage_percentage": None,
        "ai_review_reports": (),
        "review_round": 1,
        "test_run": None,
        "started_at": None,
        "completed_at": None,
        "coverage_threshold": 90.0,
        "required_reviews": 3,
        "instructions": "Planning: write the design.",
        "next_call": "set_technical_documentation",
        "unmet_gates": ("no technical documentation path is set",),
        "failure_reason": "",
    }
    fields.update(changes)
    return DevelopmentWorkflow(**fields)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()]


@pytest.fixture
def dev_backend(backend: FakeBackend) -> FakeBackend:
    for name in (
        "get_development_workflow",
        "advance_phase",
        "set_technical_documentation",
        "set_test_coverage",
        "add_review",
        "fail_development",
        "reopen_development",
    ):
        backend.answers[name] = make_development()
    return backend


@pytest.mark.parametrize(
    ("args", "call"),
    [
        (("show", TASK_ID), ("get_development_workflow", (TASK_ID,), {})),
        (("advance", TASK_ID), ("advance_phase", (TASK_ID,), {})),
        (
            ("doc", TASK_ID, "docs/design.md"),
            ("set_technical_documentation", (TASK_ID, "docs/design.md"), {}),
        ),
        (("coverage", TASK_ID, "87.5"), ("set_test_coverage", (TASK_ID, 87.5), {})),
        (
            ("fail", TASK_ID, "--reason", "dropped"),
            ("fail_development", (TASK_ID, "dropped"), {}),
        ),
        (("reopen", TASK_ID), ("reopen_development", (TASK_ID,), {})),
        (
            (
                "review", TASK_ID, "--model", "m1", "--type", "SECURITY",
                "--score", "0.75", "--reject", "--content", "too loose",
                "--suggestion", "a", "--suggestion", "b",
            ),
            (
                "add_review",
                (TASK_ID, "m1", "security", "too loose", 0.75, False, ("a", "b")),
                {},
            ),
        ),
    ],
)  # fmt: skip
def test_each_command_makes_its_call(
    dev_backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    call: tuple[str, tuple[Any, ...], dict[str, Any]],
) -> None:
    code, out, err = run(capsys, "tasks", "dev", *args)

    assert (code, err) == (0, "")
    assert dev_backend.last_call() == call
    assert ["phase", "planning"] in rows(out)


def test_show_prints_the_instructions_the_next_command_and_each_gate(
    dev_backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "tasks", "dev", "show", TASK_ID)

    lines = rows(out)
    assert ["instructions", "Planning:", "write", "the", "design."] in lines
    assert [
        "next", "task-queue", "tasks", "dev", "doc", TASK_ID, "PATH"
    ] in lines  # fmt: skip
    assert [
        "unmet",
        "gate",
        "no",
        "technical",
        "documentation",
        "path",
        "is",
        "set",
    ] in (lines)
    assert ["coverage", "not", "reported", "(threshold", "90%)"] in lines


def test_json_carries_every_field_and_the_next_command(
    dev_backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "tasks", "dev", "show", TASK_ID, "-o", "json")

    data = json.loads(out)
    assert data["phase"] == "planning"
    assert data["unmet_gates"] == ["no technical documentation path is set"]
    assert data["next_command"] == f"task-queue tasks dev doc {TASK_ID} PATH"


@pytest.mark.parametrize(
    ("next_call", "expected"),
    [
        ("advance_workflow_phase", f"task-queue tasks dev advance {TASK_ID}"),
        ("set_test_coverage", f"task-queue tasks dev coverage {TASK_ID} PERCENT"),
        ("retry_task", f"task-queue tasks retry {TASK_ID}"),
        ("", ""),
        ("something_new", "something_new"),
    ],
)
def test_the_next_call_becomes_a_command_line(next_call: str, expected: str) -> None:
    assert next_command(make_development(next_call=next_call)) == expected


@pytest.mark.parametrize(
    "args",
    [
        ("review", TASK_ID, "--model", "m", "--score", "0.5"),
        ("review", TASK_ID, "--model", "m", "--score", "2", "--approve"),
        ("review", TASK_ID, "--model", "m", "--score", "1", "--approve", "--type", "x"),
        ("coverage", TASK_ID, "101"),
        ("fail", TASK_ID),
        ("doc", TASK_ID),
    ],
)
def test_bad_arguments_are_usage_errors(
    dev_backend: FakeBackend, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, "tasks", "dev", *args)

    assert code == 2
    assert "Error" in err
    assert dev_backend.calls == []


def test_a_refused_advance_is_one_error_line(
    dev_backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    dev_backend.answers["advance_phase"] = ConflictError(
        f"Task {TASK_ID} cannot leave planning: no technical documentation path."
    )

    code, out, err = run(capsys, "tasks", "dev", "advance", TASK_ID)

    assert (code, out) == (1, "")
    assert err == (
        f"Error: Task {TASK_ID} cannot leave planning: no technical documentation "
        "path.\n"
    )


def test_review_content_can_come_from_a_file(
    dev_backend: FakeBackend, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    review = tmp_path / "review.md"
    review.write_text("# Fine\nShip it.\n")

    code, _, _ = run(
        capsys, "tasks", "dev", "review", TASK_ID, "--model", "m", "--score", "1",
        "--approve", "--content-file", str(review),
    )  # fmt: skip

    assert code == 0
    assert dev_backend.last_call()[1][3] == "# Fine\nShip it.\n"


def test_create_puts_a_task_under_the_workflow(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["create_task"] = make_task(
        development_workflow=True, development=make_development()
    )

    code, out, _ = run(
        capsys, "tasks", "create", "--name", "f", "--command", "make test",
        "--development-workflow",
    )  # fmt: skip

    assert code == 0
    assert backend.last_call()[2]["development_workflow"] is True
    assert ["development", "planning", "(next:", "set_technical_documentation)"] in (
        rows(out)
    )


Cli = Callable[..., tuple[int, str, str]]


def test_a_whole_workflow_through_the_command_line(
    shared_server: ServerProcess,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)

    def cli(*args: str) -> dict[str, Any]:
        code, out, err = run(
            capsys, "--server-url", shared_server.target, *args, "-o", "json"
        )
        assert code == 0, err
        data: dict[str, Any] = json.loads(out)
        return data

    project = cli("projects", "create", "--name", "dev cli")
    cli("projects", "update", project["id"], "--max-parallel", "1")
    task = cli(
        "tasks", "create", "--name", "feature", "--command", "true",
        "--project", project["id"], "--dev",
    )  # fmt: skip
    task_id = task["id"]
    assert task["development"]["phase"] == "planning"

    code, _, err = run(
        capsys, "--server-url", shared_server.target, "tasks", "dev", "advance", task_id
    )
    assert code == 1
    assert "no technical documentation path is set" in err

    assert cli("tasks", "dev", "doc", task_id, "docs/f.md")["next_command"] == (
        f"task-queue tasks dev advance {task_id}"
    )
    for phase in ("implementation", "test_creation", "testing"):
        assert cli("tasks", "dev", "advance", task_id)["phase"] == phase
    deadline = time.monotonic() + 30
    while (run_ := cli("tasks", "dev", "show", task_id)["test_run"])[
        "exit_code"
    ] is None:
        assert time.monotonic() < deadline, "the test run did not end"
        time.sleep(0.1)
    assert run_["exit_code"] == 0
    assert cli("tasks", "dev", "coverage", task_id, "95")["unmet_gates"] == []
    assert cli("tasks", "dev", "advance", task_id)["phase"] == "ai_review"
    for model in ("a", "b", "c"):
        reviewed = cli(
            "tasks", "dev", "review", task_id, "--model", model, "--score", "0.9",
            "--approve", "--type", "code_quality",
        )  # fmt: skip
    assert reviewed["next_command"] == f"task-queue tasks dev advance {task_id}"
    assert cli("tasks", "dev", "advance", task_id)["phase"] == "completed"
    assert cli("tasks", "dev", "reopen", task_id)["phase"] == "implementation"
    failed = cli("tasks", "dev", "fail", task_id, "--reason", "scrapped")
    assert (failed["phase"], failed["failure_reason"]) == ("failed", "scrapped")
    shown = cli("tasks", "dev", "show", task_id)
    assert len(shown["ai_review_reports"]) == 3


def test_a_review_with_both_verdicts_is_a_usage_error(
    dev_backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "tasks",
        "dev",
        "review",
        TASK_ID,
        "--model",
        "m",
        "--score",
        "1",
        "--approve",
        "--reject",
    )

    assert code == 2
    assert "--approve or --reject" in err
