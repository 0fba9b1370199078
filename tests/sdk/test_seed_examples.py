"""The seed document's Python SDK examples, run as written against a real server.

Each example is copied verbatim from the seed's user guide ("Python SDK
Usage") and run as its own Python process. Only the server's address is
adapted, through the documented mechanism: ``http://localhost:16080`` reaches
gRPC on ``TASK_QUEUE_GRPC_PORT``, which the test sets to the test server's
port. When the seed document is at hand, the copies are checked against it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskqueue import TaskQueueClient
from tests.rest.live import RestServer, start_rest_server
from tests.server_process import server_environment

SEED = Path(os.environ.get("TASK_QUEUE_SEED", "/work/shared/seed/task-queue-system.md"))

SYNC_EXAMPLE = """\
from taskqueue import TaskQueueClient

# Create client
client = TaskQueueClient("http://localhost:16080")

# Create a project
project = client.create_project("My Project", "Project description")

# Create a task
task = client.create_task(
    name="My Task",
    command="echo hello",
    project_id=project.id,
    description="Task description"
)

# List tasks
tasks = client.list_tasks()
for task in tasks:
    print(f"Task: {task.name} - Status: {task.status}")
"""

ASYNC_EXAMPLE = """\
import asyncio
from taskqueue import AsyncTaskQueueClient

async def main():
    async with AsyncTaskQueueClient("http://localhost:16080") as client:
        # Create a project
        project = await client.create_project("My Project", "Project description")
        
        # Create a task
        task = await client.create_task(
            name="My Task",
            command="echo hello",
            project_id=project.id,
            description="Task description"
        )
        
        # List tasks
        tasks = await client.list_tasks()
        for task in tasks:
            print(f"Task: {task.name} - Status: {task.status}")

# Run async function
asyncio.run(main())
"""  # noqa: W293 - verbatim: the seed's blank lines carry indentation

ERROR_EXAMPLE = """\
from taskqueue import TaskQueueClient, TaskQueueError, TaskNotFoundError

client = TaskQueueClient("http://localhost:16080")

try:
    task = client.get_task("invalid-id")
except TaskNotFoundError:
    print("Task not found")
except TaskQueueError as e:
    print(f"Task queue error: {e}")
"""

EXAMPLES = {
    "sync": SYNC_EXAMPLE,
    "async": ASYNC_EXAMPLE,
    "errors": ERROR_EXAMPLE,
}

LISTED = re.compile(r"^Task: (?P<name>.+) - Status: (?P<status>\w+)$")
STATUSES = {"pending", "running", "completed"}


def seed_python_blocks() -> list[str]:
    """Return the ```python blocks of the seed document."""
    text = SEED.read_text(encoding="utf-8")
    return [
        block + "\n"
        for block in re.findall(r"^```python\n(.*?)\n```$", text, re.S | re.M)
    ]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_copies_are_the_seed_examples_verbatim(name: str) -> None:
    if not SEED.is_file():
        pytest.skip(f"the seed document is not at {SEED}")

    assert EXAMPLES[name] in seed_python_blocks()


def test_every_python_block_of_the_seed_is_run_here() -> None:
    if not SEED.is_file():
        pytest.skip(f"the seed document is not at {SEED}")

    assert sorted(seed_python_blocks()) == sorted(EXAMPLES.values())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """A server of its own, so that the listings hold only these examples' tasks."""
    started = start_rest_server(tmp_path_factory.mktemp("seed-sdk"))
    try:
        yield started
    finally:
        started.terminate()


def run_example(code: str, server: RestServer, cwd: Path) -> str:
    """Run an example as a script; return its standard output."""
    env = server_environment() | {
        "TASK_QUEUE_GRPC_PORT": str(server.grpc_port),
        "HOME": str(cwd),
    }
    script = cwd / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def listed(stdout: str) -> list[tuple[str, str]]:
    rows = []
    for line in stdout.splitlines():
        found = LISTED.match(line)
        assert found, f"not a listing line: {line!r}"
        rows.append((found["name"], found["status"]))
    return rows


def check_created(client: TaskQueueClient, before: set[str]) -> None:
    """The example made one project and one task in it that prints hello."""
    new = [task for task in client.list_tasks() if task.id not in before]
    assert len(new) == 1
    task = new[0]
    assert (task.name, task.command, task.description) == (
        "My Task",
        "echo hello",
        "Task description",
    )
    project = client.get_project(task.project_id or "")
    assert (project.name, project.description) == (
        "My Project",
        "Project description",
    )
    assert client.wait(task.id, timeout=30).status == "completed"
    assert client.read_log(task.id)[0] == b"hello\n"


@pytest.mark.parametrize("name", ["sync", "async"])
def test_the_client_examples_create_a_project_and_task_and_list_them(
    name: str, server: RestServer, tmp_path: Path
) -> None:
    with TaskQueueClient(server.target) as client:
        before = {task.id for task in client.list_tasks()}

        stdout = run_example(EXAMPLES[name], server, tmp_path)

        rows = listed(stdout)
        assert len(rows) == len(before) + 1
        assert all(status in STATUSES for _, status in rows)
        assert rows[-1][0] == "My Task"
        check_created(client, before)


def test_the_error_example_reports_the_task_as_not_found(
    server: RestServer, tmp_path: Path
) -> None:
    assert run_example(ERROR_EXAMPLE, server, tmp_path) == "Task not found\n"


def test_the_http_url_of_the_examples_reaches_grpc_on_the_next_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TASK_QUEUE_GRPC_PORT", raising=False)

    with TaskQueueClient("http://localhost:16080") as client:
        assert client.target == "localhost:16081"
    monkeypatch.setenv("TASK_QUEUE_GRPC_PORT", "17001")
    with TaskQueueClient("http://localhost:16080") as client:
        assert client.target == "localhost:17001"
