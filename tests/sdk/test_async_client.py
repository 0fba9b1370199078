"""The asynchronous client against a real server, over gRPC."""

from __future__ import annotations

import uuid

import pytest

from taskqueue import AsyncTaskQueueClient, ConflictError, TaskNotFoundError
from tests.server_process import ServerProcess

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, which grpc.aio needs."""
    return "asyncio"


async def test_the_seed_example_creates_lists_runs_and_reads_a_task(
    shared_server: ServerProcess,
) -> None:
    async with AsyncTaskQueueClient(shared_server.target) as client:
        project = await client.create_project("My Project", "Project description")
        task = await client.create_task(
            name="My Task",
            command="echo hello",
            project_id=project.id,
            description="Task description",
        )
        tasks = await client.list_tasks()
        finished = await client.wait(task.id, timeout=10)
        data, _, _ = await client.read_log(task.id)

    assert task.project_id == project.id
    assert task.id in [listed.id for listed in tasks]
    assert finished.status == "completed"
    assert data == b"hello\n"


async def test_get_task_of_an_unknown_id_raises_task_not_found(
    shared_server: ServerProcess,
) -> None:
    async with AsyncTaskQueueClient(shared_server.target) as client:
        with pytest.raises(TaskNotFoundError):
            await client.get_task(str(uuid.uuid4()))


async def test_cancel_of_a_completed_task_raises_conflict(
    shared_server: ServerProcess,
) -> None:
    async with AsyncTaskQueueClient(shared_server.target) as client:
        task = await client.create_task(name="done", command="true")
        assert (await client.wait(task.id, timeout=10)).status == "completed"

        with pytest.raises(ConflictError):
            await client.cancel_task(task.id)
