"""Status codes and messages of refused TaskService requests."""

from __future__ import annotations

import uuid

import grpc

from tests.integration.polling import (
    code_of,
    create_task,
    details_of,
    rpc_error,
    wait_running,
    wait_settled,
)
from tests.server_process import ServerProcess
from tq_grpc._gen import tasks_pb2

INVALID_ARGUMENT = grpc.StatusCode.INVALID_ARGUMENT
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


def names_of_all_tasks(server: ServerProcess) -> set[str]:
    """Return the names of every stored task."""
    listed = server.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=1000))
    return {task.name for task in listed.tasks}


def test_a_malformed_id_is_invalid_argument_naming_the_id_field(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server

    error = rpc_error(
        lambda: srv.tasks.GetTask(tasks_pb2.GetTaskRequest(id="not-a-uuid"))
    )

    assert code_of(error) == INVALID_ARGUMENT
    assert details_of(error).startswith("id:")


def test_an_empty_name_is_invalid_argument_naming_the_name_field(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server

    error = rpc_error(lambda: create_task(srv, "  ", "true"))

    assert code_of(error) == INVALID_ARGUMENT
    assert details_of(error).startswith("name:")


def test_a_negative_priority_is_invalid_argument_naming_the_priority_field(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server

    error = rpc_error(lambda: create_task(srv, "odd", "true", priority=-1))

    assert code_of(error) == INVALID_ARGUMENT
    assert details_of(error).startswith("priority:")
    assert "odd" not in names_of_all_tasks(srv)


def test_an_invalid_task_in_a_batch_is_named_by_its_index_and_nothing_is_stored(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    specs = [
        tasks_pb2.TaskSpec(name="fine in a bad batch", command="true"),
        tasks_pb2.TaskSpec(name="", command="true"),
    ]

    error = rpc_error(
        lambda: srv.tasks.BatchCreateTasks(
            tasks_pb2.BatchCreateTasksRequest(tasks=specs)
        )
    )

    assert code_of(error) == INVALID_ARGUMENT
    assert details_of(error).startswith("tasks[1].name:")
    assert "fine in a bad batch" not in names_of_all_tasks(srv)


def test_an_unknown_task_id_is_not_found(shared_server: ServerProcess) -> None:
    srv = shared_server
    unknown = str(uuid.uuid4())

    error = rpc_error(lambda: srv.tasks.GetTask(tasks_pb2.GetTaskRequest(id=unknown)))

    assert code_of(error) == grpc.StatusCode.NOT_FOUND
    assert unknown in details_of(error)


def test_cancelling_a_completed_task_is_a_failed_precondition(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "quick", "true")
    wait_settled(srv, task.id)

    error = rpc_error(
        lambda: srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=task.id))
    )

    assert code_of(error) == FAILED_PRECONDITION
    assert task.id in details_of(error)


def test_updating_or_deleting_a_running_task_is_a_failed_precondition(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "busy", "sleep 5")
    wait_running(srv, task.id)

    update = rpc_error(
        lambda: srv.tasks.UpdateTask(
            tasks_pb2.UpdateTaskRequest(id=task.id, name="renamed")
        )
    )
    delete = rpc_error(
        lambda: srv.tasks.DeleteTask(tasks_pb2.DeleteTaskRequest(id=task.id))
    )
    retry = rpc_error(
        lambda: srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=task.id))
    )
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=task.id), timeout=10)

    assert code_of(update) == FAILED_PRECONDITION
    assert code_of(delete) == FAILED_PRECONDITION
    assert code_of(retry) == FAILED_PRECONDITION


def test_a_garbage_page_token_is_invalid_argument(shared_server: ServerProcess) -> None:
    srv = shared_server

    error = rpc_error(
        lambda: srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_token="garbage!"))
    )

    assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(error).startswith("page_token:")
