"""Workflows, dependencies and pause through the CLI, against a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from taskqueue.cli import main
from tests.server_process import ServerFactory, ServerProcess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workflow.yaml"
WAIT = "60"
FAR_FUTURE = "2099-01-01T00:00:00Z"

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def _clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    """Run every command from a scratch directory, with no settings inherited."""
    for name in ("TASK_QUEUE_SERVER_URL", "TASK_QUEUE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield


def cli_for(server: ServerProcess, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--server-url", server.target, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def cli(shared_server: ServerProcess, capsys: pytest.CaptureFixture[str]) -> Cli:
    return cli_for(shared_server, capsys)


def create(cli: Cli, path: Path | str) -> dict[str, Any]:
    code, out, err = cli("workflows", "create", "-f", str(path), "-o", "json")
    assert code == 0, err
    workflow: dict[str, Any] = json.loads(out)
    return workflow


def get(cli: Cli, workflow_id: str) -> dict[str, Any]:
    code, out, err = cli("workflows", "get", workflow_id, "-o", "json")
    assert code == 0, err
    workflow: dict[str, Any] = json.loads(out)
    return workflow


def tasks_by_key(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item["task"] for item in workflow["tasks"]}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def assert_ran_in_dependency_order(workflow: dict[str, Any]) -> None:
    """Every task that ran started after each dependency it waited for ended."""
    tasks = tasks_by_key(workflow)
    checked = 0
    for edge in workflow["edges"]:
        source, target = tasks[edge["source_key"]], tasks[edge["target_key"]]
        if target["started_at"] is None:
            continue
        assert source["finished_at"] is not None, (edge, source)
        assert source["finished_at"] <= target["started_at"], (edge, source, target)
        checked += 1
    assert checked


def test_the_example_workflow_runs_in_dependency_order_and_completes(
    cli: Cli,
) -> None:
    created = create(cli, EXAMPLE)

    code, out, err = cli("workflows", "wait", created["id"], "--timeout", WAIT)

    assert code == 0, (out, err)
    assert err == ""  # no progress display when stderr is not a terminal
    assert ["status", "completed"] in [line.split() for line in out.splitlines()]
    workflow = get(cli, created["id"])
    tasks = tasks_by_key(workflow)
    assert workflow["status"] == "completed"
    assert {key: task["status"] for key, task in tasks.items()} == {
        "fetch": "completed",
        "build": "completed",
        "lint": "completed",
        "test": "completed",
        "report-failure": "cancelled",
        "cleanup": "completed",
    }
    # The on-failure branch could never run; its reason names the build.
    assert tasks["build"]["id"] in tasks["report-failure"]["status_reason"]
    assert tasks["fetch"]["name"] == "Fetch sources"
    assert tasks["build"]["name"] == "build"
    assert all(task["workflow_id"] == created["id"] for task in tasks.values())
    assert_ran_in_dependency_order(workflow)
    code, log, _ = cli("tasks", "logs", tasks["cleanup"]["id"])
    assert (code, log) == (0, "cleaning up\n")


FAILING = """\
name: failing
tasks:
  - key: compile
    command: echo compiling; exit 3
  - key: package
    command: echo packaging
    depends_on: [compile]
  - key: publish
    command: echo publishing
    depends_on: [package]
  - key: alert
    command: echo alert
    depends_on:
      - key: compile
        condition: failure
"""


def test_a_failing_branch_fails_the_wait_and_cancels_its_dependents(
    cli: Cli, tmp_path: Path
) -> None:
    created = create(cli, write(tmp_path / "failing.yaml", FAILING))

    code, out, err = cli("workflows", "wait", created["id"], "--timeout", WAIT)

    assert code == 1, (out, err)
    assert err == ""  # no progress display when stderr is not a terminal
    workflow = get(cli, created["id"])
    tasks = tasks_by_key(workflow)
    assert workflow["status"] == "failed"
    assert (tasks["compile"]["status"], tasks["compile"]["exit_code"]) == ("failed", 3)
    assert tasks["alert"]["status"] == "completed"
    for key, dependency in (("package", "compile"), ("publish", "package")):
        assert tasks[key]["status"] == "cancelled"
        assert tasks[key]["started_at"] is None
        assert tasks[dependency]["id"] in tasks[key]["status_reason"]
    assert_ran_in_dependency_order(workflow)

    code, table, _ = cli("workflows", "get", created["id"])
    package_row = next(
        line for line in table.splitlines() if line.startswith("package ")
    )
    assert code == 0
    assert "cancelled" in package_row
    assert f"dependency {tasks['compile']['id']} (compile)" in package_row


FLAKY = """\
name: flaky
tasks:
  - key: flaky
    command: test -e marker || { touch marker; exit 1; }
  - key: after
    command: echo after
    depends_on: [flaky]
"""


def test_retry_runs_the_failed_task_and_its_dependents_again(
    cli: Cli, tmp_path: Path
) -> None:
    created = create(cli, write(tmp_path / "flaky.yaml", FLAKY))
    first, _, _ = cli("workflows", "wait", created["id"], "--timeout", WAIT)

    code, out, err = cli("workflows", "retry", created["id"], "-o", "json")
    assert code == 0, err
    assert json.loads(out)["id"] == created["id"]
    second, _, err = cli("workflows", "wait", created["id"], "--timeout", WAIT)

    tasks = tasks_by_key(get(cli, created["id"]))
    assert (first, second) == (1, 0), err
    assert tasks["flaky"]["status"] == "completed"
    assert tasks["flaky"]["attempt"] == 2
    assert tasks["after"]["status"] == "completed"
    assert (tmp_path / "marker").exists()


def test_unknown_fields_are_named_and_nothing_is_created(
    cli: Cli, tmp_path: Path
) -> None:
    bad = write(
        tmp_path / "bad.yaml",
        "name: typo-workflow\ntasks:\n  - key: a\n    command: 'true'\n"
        "  - key: b\n    comand: make\n",
    )

    code, out, err = cli("workflows", "create", "-f", str(bad))
    _, listed, _ = cli("workflows", "list", "-o", "json")

    assert (code, out) == (1, "")
    assert err == (
        f"Error: {bad}: tasks[1].comand: unknown field; did you mean command?\n"
    )
    assert "typo-workflow" not in [item["name"] for item in json.loads(listed)]


@pytest.mark.parametrize(
    ("tasks", "field"),
    [
        ("[{key: a, depends_on: [nope]}]", "tasks[0].depends_on[0].key"),
        ("[{key: a}, {key: a}]", "tasks[1].key"),
        ("[{key: a, depends_on: [b]}, {key: b, depends_on: [a]}]", "cycle"),
    ],
)
def test_the_server_names_bad_edges_and_keys(
    cli: Cli, tmp_path: Path, tasks: str, field: str
) -> None:
    bad = write(tmp_path / "bad.yaml", f"name: w\ntasks: {tasks}\n")

    code, _, err = cli("workflows", "create", "-f", str(bad))

    assert code == 1
    assert err.startswith("Error: ")
    assert field in err


def test_list_shows_created_workflows_with_their_status(cli: Cli) -> None:
    created = create(cli, EXAMPLE)
    cli("workflows", "wait", created["id"], "--timeout", WAIT)

    code, out, _ = cli("workflows", "list", "-o", "json")
    _, table, _ = cli("workflows", "list")

    listed = {item["id"]: item for item in json.loads(out)}
    assert code == 0
    assert listed[created["id"]]["status"] == "completed"
    assert listed[created["id"]]["progress"]["total"] == 6
    assert listed[created["id"]]["tasks"] == []
    assert any(line.startswith(created["id"]) for line in table.splitlines())


def test_cancel_stops_a_running_workflow(cli: Cli, tmp_path: Path) -> None:
    slow = write(
        tmp_path / "slow.yaml",
        "name: slow\ntasks:\n  - key: sleep\n    command: sleep 30\n"
        "  - key: after\n    command: 'true'\n    depends_on: [sleep]\n",
    )
    created = create(cli, slow)

    code, out, err = cli("workflows", "cancel", created["id"], "--reason", "enough")
    waited, _, _ = cli("workflows", "wait", created["id"], "--timeout", WAIT)

    workflow = get(cli, created["id"])
    assert code == 0, err
    assert ["status", "cancelled"] in [line.split() for line in out.splitlines()]
    assert waited == 1
    assert workflow["status"] == "cancelled"
    assert {item["task"]["status"] for item in workflow["tasks"]} == {"cancelled"}


def test_delete_of_a_task_others_depend_on_needs_cascade(cli: Cli) -> None:
    def task(*args: str) -> dict[str, Any]:
        code, out, err = cli("tasks", "create", "-o", "json", *args)
        assert code == 0, err
        created: dict[str, Any] = json.loads(out)
        return created

    first = task("--name", "first", "--command", "true", "--start-after", FAR_FUTURE)
    second = task("--name", "second", "--command", "true", "--depends-on", first["id"])
    third = task(
        "--name", "third", "--command", "true",
        "--depends-on", f"{second['id']}:completion",
    )  # fmt: skip

    _, shown, _ = cli("tasks", "get", second["id"])
    _, first_json, _ = cli("tasks", "get", first["id"], "-o", "json")
    refused, _, refusal = cli("tasks", "delete", first["id"])
    still, _, _ = cli("tasks", "get", first["id"])
    code, out, err = cli("tasks", "delete", first["id"], "--cascade", "-o", "json")
    gone, _, missing = cli("tasks", "get", third["id"])

    assert second["status"] == "waiting_for_dependencies"
    assert first["id"] in second["blocked_by"]
    blocked_row = next(
        line for line in shown.splitlines() if line.startswith("blocked_by")
    )
    assert f"waiting for dependency {first['id']} (first)" in blocked_row
    assert "start_after" in json.loads(first_json)["blocked_by"]
    assert refused == 1
    assert refusal.startswith("Error: ")
    assert f"task-queue tasks delete {first['id']} --cascade" in refusal
    assert still == 0
    assert code == 0, err
    deleted = json.loads(out)["deleted_ids"]
    assert deleted[0] == first["id"]
    assert set(deleted) == {first["id"], second["id"], third["id"]}
    assert gone == 1
    assert "not found" in missing


def test_pause_holds_new_tasks_until_resume(
    server: ServerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_for(server(), capsys)

    paused, message, _ = cli("server", "pause")
    _, status, _ = cli("server", "status", "-o", "json")
    _, out, _ = cli(
        "tasks", "create", "--name", "held", "--command", "true", "-o", "json"
    )
    task_id = json.loads(out)["id"]
    time.sleep(1.0)
    _, held, _ = cli("tasks", "get", task_id, "-o", "json")
    resumed, _, _ = cli("server", "resume")
    _, after, _ = cli("server", "status", "-o", "json")
    waited, _, err = cli("tasks", "wait", task_id, "--timeout", WAIT)

    assert paused == 0
    assert message.startswith("Queue paused")
    assert json.loads(status)["paused"] is True
    assert json.loads(held)["status"] == "pending"
    assert "paus" in json.loads(held)["blocked_by"].lower()
    assert resumed == 0
    assert json.loads(after)["paused"] is False
    assert waited == 0, err
