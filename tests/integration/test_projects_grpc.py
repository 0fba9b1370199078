"""ProjectService over gRPC."""

from __future__ import annotations

import functools
import uuid

import grpc

from tests.integration.polling import (
    code_of,
    create_task,
    rpc_error,
    wait_running,
    wait_settled,
    wait_until,
)
from tests.integration.processes import group_members, kill_group
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, projects_pb2, tasks_pb2

FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def test_a_project_is_created_read_listed_updated_and_deleted(
    server: ServerFactory,
) -> None:
    srv = server()
    projects = srv.projects

    created = projects.CreateProject(
        projects_pb2.CreateProjectRequest(
            name="website", description="the site", tags=["web"], max_parallel=2
        )
    ).project
    other = projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="docs")
    ).project
    fetched = projects.GetProject(projects_pb2.GetProjectRequest(id=created.id)).project
    listed = projects.ListProjects(projects_pb2.ListProjectsRequest()).projects
    updated = projects.UpdateProject(
        projects_pb2.UpdateProjectRequest(
            id=created.id, name="website v2", max_parallel=3
        )
    ).project
    deleted = projects.DeleteProject(projects_pb2.DeleteProjectRequest(id=created.id))

    assert created.status == common_pb2.PROJECT_STATUS_ACTIVE
    assert (created.coverage_threshold, created.required_reviews) == (90, 3)
    assert fetched == created
    assert [p.id for p in listed] == [created.id, other.id]
    assert (updated.name, updated.max_parallel) == ("website v2", 3)
    assert (updated.description, list(updated.tags)) == ("the site", ["web"])
    assert deleted.id == created.id
    assert deleted.deleted_tasks == 0
    error = rpc_error(
        lambda: projects.GetProject(projects_pb2.GetProjectRequest(id=created.id))
    )
    assert code_of(error) == NOT_FOUND
    remaining = projects.ListProjects(projects_pb2.ListProjectsRequest()).projects
    assert [p.id for p in remaining] == [other.id]


def test_deleting_a_project_with_tasks_is_refused_unless_cascading(
    server: ServerFactory,
) -> None:
    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="full")
    ).project
    done = create_task(srv, "done", "true", project_id=project.id)
    noted = create_task(srv, "noted", project_id=project.id)
    wait_settled(srv, done.id)

    refused = rpc_error(
        lambda: srv.projects.DeleteProject(
            projects_pb2.DeleteProjectRequest(id=project.id)
        )
    )
    cascaded = srv.projects.DeleteProject(
        projects_pb2.DeleteProjectRequest(id=project.id, cascade=True)
    )

    assert code_of(refused) == FAILED_PRECONDITION
    assert cascaded.deleted_tasks == 2
    for task_id in (done.id, noted.id):
        request = tasks_pb2.GetTaskRequest(id=task_id)
        error = rpc_error(functools.partial(srv.tasks.GetTask, request))
        assert code_of(error) == NOT_FOUND
    error = rpc_error(
        lambda: srv.projects.GetProject(projects_pb2.GetProjectRequest(id=project.id))
    )
    assert code_of(error) == NOT_FOUND


def test_a_cascading_delete_ends_the_processes_of_running_tasks(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="busy")
    ).project
    task = create_task(srv, "long", "sleep 600", project_id=project.id)
    pid = wait_running(srv, task.id).pid
    try:
        answer = srv.projects.DeleteProject(
            projects_pb2.DeleteProjectRequest(id=project.id, cascade=True)
        )

        assert answer.deleted_tasks == 1
        wait_until(
            lambda: not group_members(pid),
            timeout=5,
            what="the deleted task's process group to end",
        )
    finally:
        kill_group(pid)


def test_deleting_a_project_with_a_child_project_is_refused(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    parent = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="parent")
    ).project
    srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="child", parent_id=parent.id)
    )

    error = rpc_error(
        lambda: srv.projects.DeleteProject(
            projects_pb2.DeleteProjectRequest(id=parent.id, cascade=True)
        )
    )

    assert code_of(error) == FAILED_PRECONDITION


def test_list_project_tasks_returns_only_that_projects_tasks(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="mine")
    ).project
    first = create_task(srv, "first", project_id=project.id)
    create_task(srv, "elsewhere")
    second = create_task(srv, "second", "true", project_id=project.id)
    wait_settled(srv, second.id)

    everything = srv.projects.ListProjectTasks(
        projects_pb2.ListProjectTasksRequest(id=project.id)
    ).tasks
    finished = srv.projects.ListProjectTasks(
        projects_pb2.ListProjectTasksRequest(
            id=project.id, status=common_pb2.TASK_STATUS_COMPLETED
        )
    ).tasks

    assert [t.id for t in everything] == [first.id, second.id]
    assert [t.id for t in finished] == [second.id]


def test_a_task_in_an_unknown_project_is_not_found(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    unknown = str(uuid.uuid4())

    error = rpc_error(lambda: create_task(srv, "orphan", "true", project_id=unknown))

    assert code_of(error) == NOT_FOUND
    listed = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=1000)).tasks
    assert "orphan" not in {task.name for task in listed}
