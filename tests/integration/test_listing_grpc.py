"""BatchCreateTasks and ListTasks paging and filters over gRPC."""

from __future__ import annotations

from typing import Any

from tests.integration.polling import wait_until
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, projects_pb2, tasks_pb2

COMPLETED = common_pb2.TASK_STATUS_COMPLETED


def list_all(
    server: ServerProcess, page_size: int, **filters: Any
) -> list[tasks_pb2.ListTasksResponse]:
    """Return every page of a ListTasks query."""
    pages = []
    token = ""
    while True:
        page = server.tasks.ListTasks(
            tasks_pb2.ListTasksRequest(page_size=page_size, page_token=token, **filters)
        )
        pages.append(page)
        token = page.next_page_token
        if not token:
            return pages
        assert len(pages) < 100, "the pages never end"


def batch(server: ServerProcess, specs: list[tasks_pb2.TaskSpec]) -> list[str]:
    """Create tasks in one batch and return their ids in order."""
    answer = server.tasks.BatchCreateTasks(
        tasks_pb2.BatchCreateTasksRequest(tasks=specs)
    )
    return [task.id for task in answer.tasks]


def test_a_batch_of_500_tasks_completes_and_pages_by_100_in_creation_order(
    server: ServerFactory,
) -> None:
    srv = server()
    ids = batch(
        srv, [tasks_pb2.TaskSpec(name=f"t{i}", command="true") for i in range(500)]
    )

    def all_completed() -> bool:
        pages = list_all(srv, 1000, status=COMPLETED)
        return sum(len(p.tasks) for p in pages) == 500

    wait_until(all_completed, timeout=30, interval=0.2, what="500 completed tasks")
    pages = list_all(srv, 100)

    assert len(ids) == len(set(ids)) == 500
    assert [len(p.tasks) for p in pages] == [100] * 5
    listed = [task.id for page in pages for task in page.tasks]
    assert listed == ids
    assert all(t.status == COMPLETED for p in pages for t in p.tasks)
    assert [t.name for t in pages[0].tasks[:3]] == ["t0", "t1", "t2"]


def test_list_filters_select_by_status_project_and_priority(
    server: ServerFactory,
) -> None:
    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="filtered")
    ).project
    high = common_pb2.PRIORITY_HIGH
    specs = [
        tasks_pb2.TaskSpec(name="plain"),
        tasks_pb2.TaskSpec(name="urgent", priority=high),
        tasks_pb2.TaskSpec(name="in project", project_id=project.id),
        tasks_pb2.TaskSpec(
            name="urgent in project", project_id=project.id, priority=high
        ),
        tasks_pb2.TaskSpec(name="ran", command="true"),
    ]
    ids = dict(zip([s.name for s in specs], batch(srv, specs), strict=True))
    wait_until(
        lambda: srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(status=COMPLETED)).tasks,
        what="the runnable task to complete",
    )

    def names(**filters: Any) -> list[str]:
        pages = list_all(srv, 2, **filters)
        return [t.name for p in pages for t in p.tasks]

    assert names(status=COMPLETED) == ["ran"]
    assert names(status=common_pb2.TASK_STATUS_PENDING) == [
        "plain",
        "urgent",
        "in project",
        "urgent in project",
    ]
    assert names(project_id=project.id) == ["in project", "urgent in project"]
    assert names(priority=high) == ["urgent", "urgent in project"]
    assert names(project_id=project.id, priority=high) == ["urgent in project"]
    assert names(status=common_pb2.TASK_STATUS_FAILED) == []
    assert len(ids) == 5


def test_a_page_size_above_1000_is_reduced_to_1000(server: ServerFactory) -> None:
    srv = server()
    batch(srv, [tasks_pb2.TaskSpec(name=f"note {i}") for i in range(1050)])

    first = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=5000))
    rest = srv.tasks.ListTasks(
        tasks_pb2.ListTasksRequest(page_size=5000, page_token=first.next_page_token)
    )
    default = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest())

    assert len(first.tasks) == 1000
    assert first.next_page_token
    assert len(rest.tasks) == 50
    assert rest.next_page_token == ""
    assert len(default.tasks) == 50


def test_project_and_status_together_use_their_own_index_even_on_old_data(
    server: ServerFactory,
) -> None:
    from tq_actors import RocksStore

    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="p")
    ).project
    specs = [tasks_pb2.TaskSpec(name=f"t{i}", project_id=project.id) for i in range(30)]
    specs.append(tasks_pb2.TaskSpec(name="runs", command="true", project_id=project.id))
    created = srv.tasks.BatchCreateTasks(
        tasks_pb2.BatchCreateTasksRequest(tasks=specs)
    ).tasks
    wait_until(
        lambda: (
            srv.tasks.GetTask(tasks_pb2.GetTaskRequest(id=created[-1].id)).task.status
            == COMPLETED
        )
    )
    srv.stop()
    # Make the data directory look as it did before the index existed.
    store = RocksStore(srv.data_dir / "task-queue.db")
    try:
        keys = [key for key, _ in store.scan("idx_project_status", b"", limit=1000)]
        store.commit(
            [("idx_project_status", key, None) for key in keys]
            + [("meta", b"idx_project_status", None)]
        ).result()
    finally:
        store.close()
    assert len(keys) == 31
    srv.start()

    def listed(status: int) -> list[str]:
        pages = list_all(srv, 7, project_id=project.id, status=status)
        return [t.name for page in pages for t in page.tasks]

    assert listed(COMPLETED) == ["runs"]
    assert listed(common_pb2.TASK_STATUS_PENDING) == [f"t{i}" for i in range(30)]
    assert listed(common_pb2.TASK_STATUS_FAILED) == []
