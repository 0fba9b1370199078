"""Iterators and lists follow the server's pages: 1,050 tasks, pages of 1,000 at most.

One server holds 1,050 tracking-only tasks (no command, so they stay
pending) created in one batch in one project; the tests only read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from taskqueue import AsyncTaskQueueClient, Task, TaskQueueClient, ValidationError
from tests.server_process import ServerFactory, ServerProcess

COUNT = 1050


@pytest.fixture(scope="module")
def filled(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, str, list[str]]]:
    """A server with COUNT tasks in one project; yield it, the project, the ids."""
    factory = ServerFactory(tmp_path_factory.mktemp("pages"))
    try:
        server = factory()
        with TaskQueueClient(server.target) as client:
            project = client.create_project("pages")
            created = client.create_tasks(
                {"name": f"t{i:04d}", "project_id": project.id} for i in range(COUNT)
            )
        yield server, project.id, [task.id for task in created]
    finally:
        factory.terminate_all()


def count_pages(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the page size of every list call the client makes."""
    sizes: list[int] = []
    call = client._call

    def counting(name: str, request: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(request.page_size)
        return call(name, request, *args, **kwargs)

    monkeypatch.setattr(client, "_call", counting)
    return sizes


def test_one_batch_made_every_task_in_creation_order(
    filled: tuple[ServerProcess, str, list[str]],
) -> None:
    _, _, ids = filled

    assert len(ids) == len(set(ids)) == COUNT


@pytest.mark.parametrize(("page_size", "pages"), [(1000, 2), (100, 11), (7, 150)])
def test_iter_tasks_yields_every_task_once_in_order_page_by_page(
    filled: tuple[ServerProcess, str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    page_size: int,
    pages: int,
) -> None:
    server, _, ids = filled

    with TaskQueueClient(server.target) as client:
        sizes = count_pages(client, monkeypatch)
        seen = [task.id for task in client.iter_tasks(page_size=page_size)]

    assert seen == ids
    assert sizes == [page_size] * pages


def test_iter_tasks_fetches_pages_only_as_the_loop_reaches_them(
    filled: tuple[ServerProcess, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _, ids = filled

    with TaskQueueClient(server.target) as client:
        sizes = count_pages(client, monkeypatch)
        tasks = client.iter_tasks(page_size=100)
        first = next(tasks)
        assert sizes == [100]
        rest = list(tasks)

    assert [first.id, *(task.id for task in rest)] == ids
    assert len(sizes) == 11


def test_list_tasks_follows_every_page_and_stops_at_a_limit(
    filled: tuple[ServerProcess, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _, ids = filled

    with TaskQueueClient(server.target) as client:
        everything = client.list_tasks()
        sizes = count_pages(client, monkeypatch)
        limited = client.list_tasks(limit=1001)

    assert [task.id for task in everything] == ids
    assert [task.id for task in limited] == ids[:1001]
    assert sizes == [1000, 1]


def test_filters_hold_on_every_page(
    filled: tuple[ServerProcess, str, list[str]],
) -> None:
    server, project_id, ids = filled

    with TaskQueueClient(server.target) as client:
        pending = list(client.iter_tasks(status="pending", page_size=300))
        in_project = list(client.iter_tasks(project_id=project_id, page_size=400))
        of_project = list(client.iter_project_tasks(project_id, page_size=250))
        listed = client.list_project_tasks(project_id, status="pending")
        none_running = list(client.iter_tasks(status="running"))

    for found in (pending, in_project, of_project, listed):
        assert [task.id for task in found] == ids
    assert all(task.status == "pending" for task in pending)
    assert all(task.project_id == project_id for task in of_project)
    assert none_running == []


def test_other_iterators_follow_pages_too(
    filled: tuple[ServerProcess, str, list[str]],
) -> None:
    server, project_id, _ = filled

    with TaskQueueClient(server.target) as client:
        for index in range(3):
            client.create_project(f"extra {index}")
        projects = list(client.iter_projects(page_size=2))
        workflows = list(client.iter_workflows(page_size=1))

    assert [project.name for project in projects] == [
        "pages",
        "extra 0",
        "extra 1",
        "extra 2",
    ]
    assert projects[0].id == project_id
    assert workflows == []


@pytest.mark.parametrize("page_size", [0, -1, 1001, True])
def test_a_page_size_out_of_range_is_refused_before_any_call(
    filled: tuple[ServerProcess, str, list[str]], page_size: int
) -> None:
    server, _, _ = filled

    with TaskQueueClient(server.target) as client, pytest.raises(ValidationError):
        next(client.iter_tasks(page_size=page_size))


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, which grpc.aio needs."""
    return "asyncio"


@pytest.mark.anyio
async def test_the_async_iterators_follow_every_page(
    filled: tuple[ServerProcess, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, project_id, ids = filled

    async with AsyncTaskQueueClient(server.target) as client:
        sizes = count_pages(client, monkeypatch)
        seen: list[Task] = [task async for task in client.iter_tasks()]
        assert sizes == [1000, 1000]
        of_project = [
            task async for task in client.iter_project_tasks(project_id, page_size=500)
        ]
        listed = await client.list_tasks()
        limited = await client.list_tasks(limit=5)

    assert [task.id for task in seen] == ids
    assert [task.id for task in of_project] == ids
    assert [task.id for task in listed] == ids
    assert [task.id for task in limited] == ids[:5]
