"""Every ``task-queue`` line of the seed document, run against a real server.

The lines are copied verbatim from the seed's user guide and troubleshooting
sections (checked against the document when it is at hand) and run through
the CLI's ``main``. Placeholders (``<project-id>``, ``<task-id>``,
``<api-key>``) become real values; the address is adapted only through the
documented mechanism: ``TASK_QUEUE_GRPC_PORT`` names the test server's gRPC
port (the CLI reads it when no URL is given, and an ``http://`` URL reaches
gRPC on it), and ``custom-server:8080`` becomes the test server's HTTP
address. The lines that start the server run ``task-queue`` as a process with
``TASK_QUEUE_PORT`` / ``TASK_QUEUE_GRPC_PORT`` set to free ports.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from taskqueue import TaskQueueClient
from taskqueue.cli import main
from tests.rest.live import RestServer, start_rest_server
from tests.server_process import HOST, free_port, server_environment

SEED = Path(os.environ.get("TASK_QUEUE_SEED", "/work/shared/seed/task-queue-system.md"))

# The user guide: first steps, basic commands, advanced usage.
FIRST_STEPS = [
    "task-queue tasks list",
    'task-queue projects create --name "My Project"',
    'task-queue tasks create --name "My Task" --command "echo hello" '
    "--project <project-id>",
]
TASK_LINES = [
    "task-queue tasks list",
    'task-queue tasks create --name "Task Name" --command "command to run" '
    "--project <project-id>",
    "task-queue tasks get <task-id>",
    'task-queue tasks update <task-id> --name "New Name"',
    'task-queue tasks cancel <task-id> --reason "Reason for cancellation"',
    "task-queue tasks delete <task-id>",
]
PROJECT_LINES = [
    "task-queue projects list",
    'task-queue projects create --name "Project Name" '
    '--description "Project description"',
    "task-queue projects get <project-id>",
    "task-queue projects tasks <project-id>",
]
SERVER_LINES = [
    "task-queue server status",
    "task-queue server health",
    "task-queue server metrics",
]
FORMAT_LINES = [
    "task-queue tasks list --format json",
    "task-queue tasks list --format yaml",
    "task-queue tasks list --format table",
]
FILTER_LINES = [
    "task-queue tasks list --status pending",
    "task-queue tasks list --project <project-id>",
    "task-queue tasks list --priority high",
]
CONFIGURATION_LINES = [
    "task-queue --server-url http://custom-server:8080 tasks list",
    "task-queue --verbose tasks list",
    "task-queue --api-key <api-key> tasks list",
]
# Troubleshooting and getting help.
TROUBLESHOOTING_LINES = [
    "task-queue config show",
    "task-queue config reset",
]
# In the seed's text: "Consult CLI help: `task-queue --help`".
HELP_LINE = "task-queue --help"
SERVER_START_LINES = [
    "task-queue",
    "TASK_QUEUE_PORT=16081 task-queue",
]
# Followed by `task-queue` in the seed's "Enable Debug Logging".
RUST_LOG_LINE = "export RUST_LOG=debug"
ALL_LINES = (
    FIRST_STEPS
    + TASK_LINES
    + PROJECT_LINES
    + SERVER_LINES
    + FORMAT_LINES
    + FILTER_LINES
    + CONFIGURATION_LINES
    + TROUBLESHOOTING_LINES
    + SERVER_START_LINES
)


def seed_command_lines() -> set[str]:
    """Return the lines of the seed's bash blocks that run task-queue."""
    text = SEED.read_text(encoding="utf-8")
    found = set()
    in_bash = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("```"):
            in_bash = line == "```bash"
            continue
        if in_bash and "task-queue" in line and not line.startswith("#"):
            found.add(line)
    return found


def test_the_copies_are_the_seed_lines_verbatim() -> None:
    if not SEED.is_file():
        pytest.skip(f"the seed document is not at {SEED}")

    lines = seed_command_lines()

    missing = [line for line in ALL_LINES if line not in lines]
    assert missing == []
    text = SEED.read_text(encoding="utf-8")
    assert f"{RUST_LOG_LINE}\ntask-queue\n" in text
    assert f"`{HELP_LINE}`" in text


def test_every_cli_line_of_the_seed_is_run_here() -> None:
    if not SEED.is_file():
        pytest.skip(f"the seed document is not at {SEED}")
    # Not the CLI of this project: installing and building the Rust one,
    # inspecting its database, following systemd, killing processes.
    elsewhere = (
        "cargo",
        "cd task-queue",
        "sudo",
        "sled",
        "journalctl",
        "ps aux",
        "rm -f",
        "./target/",
        "git clone",
        "TASK_QUEUE_DATABASE_PATH=",
        # The SDK's install line: this project's distribution is task-queue.
        "pip install task-queue-sdk",
    )

    ours = {
        line
        for line in seed_command_lines()
        if not any(word in line for word in elsewhere) and "curl" not in line
    }

    assert ours - set(ALL_LINES) == set()


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """A server of its own, so that listings hold only these lines' records."""
    started = start_rest_server(tmp_path_factory.mktemp("seed-cli"))
    try:
        yield started
    finally:
        started.terminate()


@pytest.fixture
def run(
    server: RestServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Run:
    """Run one seed line through main(); return exit code, stdout, stderr."""
    monkeypatch.setenv("TASK_QUEUE_GRPC_PORT", str(server.grpc_port))
    monkeypatch.chdir(tmp_path)

    def run_line(line: str, stdin: str = "", **values: str) -> tuple[int, str, str]:
        for name, value in values.items():
            line = line.replace(f"<{name.replace('_', '-')}>", value)
        argv = shlex.split(line)
        assert argv[0] == "task-queue"
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(argv[1:])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run_line


def fields(out: str) -> dict[str, str]:
    """Read a field/value table as printed when piped."""
    found = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        found[name] = value.strip()
    return found


def rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()]


def table(out: str) -> list[dict[str, str]]:
    """Read a plain table by its header's columns (cells may hold spaces)."""
    header, *lines = out.splitlines()
    names = header.split()
    starts = [header.index(f"{name}") for name in names]
    ends = [*starts[1:], None]
    return [
        {
            name.lower(): line[start:end].strip()
            for name, start, end in zip(names, starts, ends, strict=True)
        }
        for line in lines
    ]


def test_first_steps(run: Run, server: RestServer) -> None:
    code, out, err = run(FIRST_STEPS[0])
    assert (code, err) == (0, "")

    code, out, err = run(FIRST_STEPS[1])
    assert (code, err) == (0, "")
    project = fields(out)
    assert project["name"] == "My Project"
    assert project["status"] == "active"

    code, out, err = run(FIRST_STEPS[2], project_id=project["id"])
    assert (code, err) == (0, "")
    task = fields(out)
    assert (task["name"], task["command"], task["project_id"]) == (
        "My Task",
        "echo hello",
        project["id"],
    )
    with TaskQueueClient(server.target) as client:
        assert client.wait(task["id"], timeout=30).status == "completed"
        assert client.read_log(task["id"])[0] == b"hello\n"


@pytest.fixture
def project_id(server: RestServer) -> str:
    with TaskQueueClient(server.target) as client:
        return client.create_project("Seed lines").id


def test_task_management(run: Run, server: RestServer, project_id: str) -> None:
    code, out, _ = run(TASK_LINES[0])
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["ID", "NAME", "STATUS"]

    # A pending task, so that it can still be updated: nothing starts while
    # the queue is paused.
    with TaskQueueClient(server.target) as client:
        client.pause_queue()
    try:
        code, out, err = run(TASK_LINES[1], project_id=project_id)
        assert (code, err) == (0, "")
        created = fields(out)
        assert created["command"] == "command to run"
        task_id = created["id"]

        code, out, _ = run(TASK_LINES[2], task_id=task_id)
        assert code == 0
        assert (fields(out)["name"], fields(out)["status"]) == ("Task Name", "pending")

        code, out, _ = run(TASK_LINES[3], task_id=task_id)
        assert code == 0
        assert fields(out)["name"] == "New Name"

        code, out, _ = run(TASK_LINES[4], task_id=task_id)
        assert code == 0
        cancelled = fields(out)
        assert cancelled["status"] == "cancelled"
        assert cancelled["status_reason"] == "Reason for cancellation"
    finally:
        with TaskQueueClient(server.target) as client:
            client.resume_queue()

    code, out, _ = run(TASK_LINES[5], task_id=task_id)
    assert (code, out) == (0, f"Deleted task {task_id}.\n")
    code, _, err = run(TASK_LINES[2], task_id=task_id)
    assert (code, err) == (1, f"Error: Task {task_id} not found.\n")


def test_project_management(run: Run, server: RestServer) -> None:
    code, out, err = run(PROJECT_LINES[1])
    assert (code, err) == (0, "")
    project = fields(out)
    assert (project["name"], project["description"]) == (
        "Project Name",
        "Project description",
    )
    with TaskQueueClient(server.target) as client:
        task = client.create_task("in project", project_id=project["id"])

    code, out, _ = run(PROJECT_LINES[0])
    assert code == 0
    assert [project["id"], "Project", "Name"] == rows(out)[-1][:3]

    code, out, _ = run(PROJECT_LINES[2], project_id=project["id"])
    assert code == 0
    assert fields(out)["id"] == project["id"]

    code, out, _ = run(PROJECT_LINES[3], project_id=project["id"])
    assert code == 0
    assert [row[0] for row in rows(out)[1:]] == [task.id]


def test_server_operations(run: Run) -> None:
    code, out, _ = run(SERVER_LINES[0])
    assert code == 0
    assert fields(out)["slots"] == "2"
    assert fields(out)["version"]

    assert run(SERVER_LINES[1]) == (0, "SERVING\n", "")

    code, out, _ = run(SERVER_LINES[2])
    assert code == 0
    metrics = fields(out)
    assert int(metrics["tasks_total"]) >= 0
    assert metrics["slots"] == "2"


def test_output_formats(run: Run, server: RestServer) -> None:
    with TaskQueueClient(server.target) as client:
        task = client.create_task("formats")

    code, out, _ = run(FORMAT_LINES[0])
    assert code == 0
    assert task.id in [item["id"] for item in json.loads(out)]

    code, out, _ = run(FORMAT_LINES[1])
    assert code == 0
    assert task.id in [item["id"] for item in yaml.safe_load(out)]

    code, out, _ = run(FORMAT_LINES[2])
    assert code == 0
    assert rows(out)[0][:2] == ["ID", "NAME"]
    assert task.id in [row[0] for row in rows(out)[1:]]


def test_filtering(run: Run, server: RestServer, project_id: str) -> None:
    with TaskQueueClient(server.target) as client:
        pending = client.create_task("tracked", project_id=project_id)
        urgent = client.create_task("urgent", "true", priority="high")

    code, out, _ = run(FILTER_LINES[0])
    assert code == 0
    listed = table(out)
    assert pending.id in [row["id"] for row in listed]
    assert {row["status"] for row in listed} == {"pending"}

    code, out, _ = run(FILTER_LINES[1], project_id=project_id)
    assert code == 0
    assert [row["id"] for row in table(out)] == [pending.id]

    code, out, _ = run(FILTER_LINES[2])
    assert code == 0
    assert [(row["id"], row["priority"]) for row in table(out)] == [(urgent.id, "high")]


def test_configuration_flags(run: Run, server: RestServer) -> None:
    with TaskQueueClient(server.target) as client:
        task = client.create_task("configured")
    line = CONFIGURATION_LINES[0].replace(
        "custom-server:8080", f"{HOST}:{server.http_port}"
    )

    code, out, _ = run(line)
    assert code == 0
    assert task.id in out

    # As its own process: --verbose sets up logging as the program starts.
    done = subprocess.run(
        [sys.executable, "-m", "taskqueue", *shlex.split(CONFIGURATION_LINES[1])[1:]],
        env=server_environment()
        | {"TASK_QUEUE_GRPC_PORT": str(server.grpc_port), "HOME": os.environ["HOME"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert task.id in done.stdout
    assert "DEBUG taskqueue.client: Client for '127.0.0.1:" in done.stderr


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    started = start_rest_server(
        tmp_path_factory.mktemp("seed-cli-key"), api_key="seed-secret-key-1234"
    )
    try:
        yield started
    finally:
        started.terminate()


def test_api_key_flag(
    run: Run, keyed_server: RestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASK_QUEUE_GRPC_PORT", str(keyed_server.grpc_port))

    code, out, err = run(CONFIGURATION_LINES[2], api_key="seed-secret-key-1234")
    assert (code, err) == (0, "")
    assert out.split()[:2] == ["ID", "NAME"]

    code, _, err = run(CONFIGURATION_LINES[2], api_key="wrong-key")
    assert code == 1
    assert err.startswith("Error: ")
    assert len(err.splitlines()) == 1


def test_config_show_and_reset(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TASK_QUEUE_API_KEY", "seed-secret-key-1234")
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "task-queue" / "config.yaml"

    code, out, err = run(TROUBLESHOOTING_LINES[0])
    assert (code, err) == (0, "")
    assert "seed-secret-key-1234" not in out
    key_row = ["server.api_key", "********1234", "env", "TASK_QUEUE_API_KEY"]
    assert [*key_row, "TASK_QUEUE_API_KEY"] in rows(out)
    assert f"config file: {path} (not found; defaults apply)" in out

    code, _, err = run(TROUBLESHOOTING_LINES[1], stdin="n\n")
    assert code == 1
    assert err.endswith("Nothing changed.\n")
    assert not path.exists()

    code, out, _ = run(TROUBLESHOOTING_LINES[1], stdin="y\n")
    assert (code, out) == (0, f"Wrote the default settings to {path}.\n")
    assert yaml.safe_load(path.read_text())["server"]["timeout"] == 30

    code, out, _ = run(TROUBLESHOOTING_LINES[0])
    assert code == 0
    assert ["server.timeout", "30", "config", "file", "TASK_QUEUE_TIMEOUT"] in rows(out)


def test_help(run: Run) -> None:
    code, out, _ = run(HELP_LINE)

    assert code == 0
    assert out.startswith("Usage: task-queue [OPTIONS] [COMMAND]")
    for command in ("tasks", "projects", "workflows", "server", "config", "serve"):
        assert f"\n  {command} " in out


# The lines that start the server: task-queue as a process of its own.


def start_server(line: str, cwd: Path, extra: dict[str, str]) -> tuple[int, int, str]:
    """Run a server-starting seed line; return its ports and its log.

    ``TASK_QUEUE_PORT=16081`` is the seed's; it is replaced by a free port,
    and the gRPC port (by default 16081 too) is set to another free one.
    """
    http_port, grpc_port = free_port(), free_port()
    env = server_environment() | extra | {"TASK_QUEUE_GRPC_PORT": str(grpc_port)}
    words = shlex.split(line)
    for word in words[:-1]:
        name, _, value = word.partition("=")
        env[name] = value
    env["TASK_QUEUE_PORT"] = str(http_port)
    assert words[-1] == "task-queue"
    log = cwd / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "taskqueue"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        health = wait_for_health(http_port, process, log)
        with TaskQueueClient(f"{HOST}:{grpc_port}") as client:
            serving = client.health()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert (health["status"], serving, code) == ("ok", "SERVING", 0)
    return http_port, grpc_port, log.read_text(errors="replace")


def wait_for_health(port: int, process: subprocess.Popen[bytes], log: Path) -> dict:
    deadline = time.monotonic() + 30
    with httpx.Client(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                answer = http.get(f"http://{HOST}:{port}/health")
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if answer.status_code == 200:
                body: dict = answer.json()
                return body
            time.sleep(0.1)
    raise AssertionError("no /health answer:\n" + log.read_text(errors="replace"))


def test_task_queue_alone_starts_the_server_with_data_in_the_working_directory(
    tmp_path: Path,
) -> None:
    http_port, grpc_port, log = start_server(SERVER_START_LINES[0], tmp_path, {})

    assert (tmp_path / "task-queue-data").is_dir()
    assert f"serving HTTP on {HOST}:{http_port} and gRPC on {HOST}:{grpc_port}" in log


def test_another_http_port_from_the_environment(tmp_path: Path) -> None:
    http_port, _, log = start_server(SERVER_START_LINES[1], tmp_path, {})

    assert f"serving HTTP on {HOST}:{http_port}" in log


def test_the_server_starts_with_rust_log_exported(tmp_path: Path) -> None:
    name, _, value = RUST_LOG_LINE.removeprefix("export ").partition("=")

    start_server("task-queue", tmp_path, {name: value})
