"""Option parsing, exit codes and error lines of the CLI, over a fake client."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import grpc
import pytest

from taskqueue.cli import main
from taskqueue.errors import ConnectionError, TaskNotFoundError
from tests.cli.fakes import TASK_ID, FakeBackend, make_task


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_tasks_create_sends_every_option_and_defaults_to_the_cwd(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)

    code, out, _ = run(
        capsys,
        "tasks", "create", "--name", "Task Name", "--command", "echo hi",
        "--project", "p1", "--priority", "HIGH", "--env", "A=1",
        "--env", "B=x=y", "--tag", "t1", "--tag", "t2", "--timeout-seconds", "5",
    )  # fmt: skip

    name, args, kwargs = backend.last_call()
    assert (code, name, args) == (0, "create_task", ("Task Name", "echo hi"))
    assert kwargs["project_id"] == "p1"
    assert kwargs["priority"] == "high"
    assert kwargs["env"] == {"A": "1", "B": "x=y"}
    assert kwargs["tags"] == ("t1", "t2")
    assert kwargs["timeout_seconds"] == 5
    assert kwargs["working_dir"] == str(tmp_path)
    assert out.splitlines()[0].split() == ["id", TASK_ID]


def test_format_is_accepted_before_and_after_the_sub_command(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["list_tasks"] = [make_task()]

    _, after, _ = run(capsys, "tasks", "list", "--format", "json")
    _, before, _ = run(capsys, "--format", "yaml", "tasks", "list", "--format", "json")
    _, yaml_out, _ = run(capsys, "--format", "yaml", "tasks", "list")

    assert json.loads(after)[0]["id"] == TASK_ID
    assert json.loads(before) == json.loads(after)
    assert yaml_out.startswith(f"- id: {TASK_ID}")


def test_list_filters_reach_the_client(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "tasks", "list", "--status", "pending", "--project", "p1",
        "--priority", "high", "--limit", "3")  # fmt: skip

    assert backend.last_call() == ("list_tasks", ("pending", "p1", "high", 3), {})


def test_server_url_and_api_key_come_from_flags_or_the_environment(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, "--server-url", "http://h:1", "--api-key", "k1", "tasks", "list")
    monkeypatch.setenv("TASK_QUEUE_SERVER_URL", "grpc://e:2")
    monkeypatch.setenv("TASK_QUEUE_API_KEY", "k2")
    run(capsys, "tasks", "list")

    assert backend.connections == [
        {"url": "http://h:1", "api_key": "k1"},
        {"url": "grpc://e:2", "api_key": "k2"},
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("tasks", "create", "--name", "n", "--priority", "urgent"),
        ("tasks", "create", "--name", "n", "--env", "NOVALUE"),
        ("tasks", "create", "--command", "true"),
        ("tasks", "list", "--format", "xml"),
        ("tasks", "update", TASK_ID),
        ("projects", "create", "--name", "p", "--status", "sleeping"),
        ("no-such-noun",),
    ],
)
def test_usage_errors_exit_2(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, *args)

    assert code == 2
    assert "Error:" in err
    assert backend.calls == []


def test_a_server_error_is_one_line_on_stderr_and_exit_1(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    message = f"Task {TASK_ID} not found."
    backend.answers["get_task"] = TaskNotFoundError(
        message, code=grpc.StatusCode.NOT_FOUND
    )

    code, out, err = run(capsys, "tasks", "get", TASK_ID)

    assert (code, out, err) == (1, "", f"Error: {message}\n")


def test_verbose_adds_the_traceback(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["get_task"] = TaskNotFoundError("Task x not found.")

    code, _, err = run(capsys, "--verbose", "tasks", "get", "x")

    assert code == 1
    assert "Traceback" in err
    assert err.rstrip().endswith("Error: Task x not found.")


def test_an_unreachable_server_names_the_address_and_the_remedy(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["list_tasks"] = ConnectionError(
        "cannot reach the task queue server at 127.0.0.1:16081 "
        "(is it running? start it with `task-queue`)"
    )

    code, _, err = run(capsys, "tasks", "list")

    assert code == 1
    assert err == (
        "Error: cannot reach the task queue server at 127.0.0.1:16081 "
        "(is it running? start it with `task-queue`)\n"
    )


@pytest.mark.parametrize(
    ("status", "expected"), [("completed", 0), ("failed", 1), ("cancelled", 1)]
)
def test_wait_exits_0_only_when_the_task_completed(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    status: str,
    expected: int,
) -> None:
    backend.answers["wait"] = make_task(status=status)

    code, out, _ = run(capsys, "tasks", "wait", TASK_ID, "--timeout", "2.5")

    name, args, kwargs = backend.last_call()
    assert code == expected
    assert (name, args) == ("wait", (TASK_ID, 2.5))
    assert kwargs["poll_interval"] == 1.0
    assert ["status", status] in [line.split() for line in out.splitlines()]


def test_wait_that_times_out_exits_1(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["wait"] = TimeoutError(f"Task {TASK_ID} is still running.")

    code, _, err = run(capsys, "tasks", "wait", TASK_ID, "--timeout", "0")

    assert code == 1
    assert err == f"Error: Task {TASK_ID} is still running.\n"


def test_logs_pass_raw_bytes_through(
    backend: FakeBackend, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    backend.answers["read_log"] = (b"a\xff\xfeb\n", 5, True)

    code = main(["tasks", "logs", TASK_ID, "--offset", "7"])

    assert code == 0
    assert capsysbinary.readouterr().out == b"a\xff\xfeb\n"
    assert backend.last_call() == ("read_log", (TASK_ID, 7), {})


def test_logs_follow_streams_every_chunk(
    backend: FakeBackend, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    backend.answers["follow_logs"] = iter([b"one ", b"two\n"])

    code = main(["tasks", "logs", TASK_ID, "--follow"])

    assert code == 0
    assert capsysbinary.readouterr().out == b"one two\n"


def test_health_exits_1_when_not_serving(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["health"] = "NOT_SERVING"

    assert run(capsys, "server", "health") == (1, "NOT_SERVING\n", "")


def test_project_delete_passes_cascade(
    backend: FakeBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    backend.answers["delete_project"] = 4

    code, out, _ = run(capsys, "projects", "delete", "p1", "--cascade")

    assert code == 0
    assert backend.last_call() == ("delete_project", ("p1", True), {})
    assert out == "Deleted project p1 and 4 task(s).\n"


class FakeApp:
    """Stands in for taskqueue.app; records what serve() was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], Path | None]] = []

    def serve(self, flags: dict[str, Any], config_file: Path | None) -> int:
        self.calls.append((dict(flags), config_file))
        return 0


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    fake = FakeApp()
    module = types.ModuleType("taskqueue.app")
    module.serve = fake.serve  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "taskqueue.app", module)
    return fake


SETTING_NAMES = {
    "host", "port", "grpc_port", "data_dir", "database_path", "slots",
    "kill_grace_seconds", "log_cap_bytes", "log_level", "log_format",
    "api_key", "insecure",
}  # fmt: skip


def test_no_sub_command_starts_the_server_with_no_flags(app: FakeApp) -> None:
    assert main([]) == 0

    flags, config_file = app.calls[0]
    assert set(flags) == SETTING_NAMES
    assert all(value is None for value in flags.values())
    assert config_file is None


def test_serve_passes_each_flag_under_its_setting_name(
    app: FakeApp, tmp_path: Path
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("server: {}\n")

    code = main([
        "serve", "--host", "127.0.0.1", "--port", "8080", "--grpc-port", "8081",
        "--data-dir", str(tmp_path / "d"), "--slots", "3",
        "--kill-grace-seconds", "1.5", "--log-cap-bytes", "1024",
        "--log-level", "DEBUG", "--log-format", "json", "--config", str(config),
        "--api-key", "k", "--insecure",
    ])  # fmt: skip

    flags, config_file = app.calls[0]
    assert code == 0
    assert config_file == config
    assert flags == {
        "host": "127.0.0.1",
        "port": 8080,
        "grpc_port": 8081,
        "data_dir": tmp_path / "d",
        "database_path": None,
        "slots": 3,
        "kill_grace_seconds": 1.5,
        "log_cap_bytes": 1024,
        "log_level": "debug",
        "log_format": "json",
        "api_key": "k",
        "insecure": True,
    }


def test_serve_refuses_a_config_file_that_does_not_exist(
    app: FakeApp, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "serve", "--config", str(tmp_path / "missing.yml"))

    assert code == 2
    assert "does not exist" in err
    assert app.calls == []


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")

    assert code == 0
    for noun in ("tasks", "projects", "server", "serve"):
        assert noun in out
