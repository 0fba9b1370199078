"""Dependencies decide what runs: waiting, propagation, cycles, deletion."""

from __future__ import annotations

import grpc
import pytest

from tests.integration.polling import (
    code_of,
    create_task,
    details_of,
    get_task,
    rpc_error,
    seconds,
    timestamp_in,
    wait_for_status,
    wait_running,
    wait_settled,
)
from tests.integration.processes import kill_group
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, projects_pb2, tasks_pb2

UNSPECIFIED = common_pb2.TASK_STATUS_UNSPECIFIED
COMPLETED = common_pb2.TASK_STATUS_COMPLETED
FAILED = common_pb2.TASK_STATUS_FAILED
CANCELLED = common_pb2.TASK_STATUS_CANCELLED
PENDING = common_pb2.TASK_STATUS_PENDING
WAITING = common_pb2.TASK_STATUS_WAITING_FOR_DEPENDENCIES
SUCCESS = tasks_pb2.DEPENDENCY_CONDITION_SUCCESS
FAILURE = tasks_pb2.DEPENDENCY_CONDITION_FAILURE
COMPLETION = tasks_pb2.DEPENDENCY_CONDITION_COMPLETION


def after(*task_ids: str, condition: int = SUCCESS) -> list[tasks_pb2.Dependency]:
    return [tasks_pb2.Dependency(task_id=t, condition=condition) for t in task_ids]


def set_depends_on(
    srv: ServerProcess, task_id: str, edges: list[tasks_pb2.Dependency]
) -> tasks_pb2.Task:
    answer = srv.tasks.UpdateTask(
        tasks_pb2.UpdateTaskRequest(
            id=task_id, depends_on=edges, update_depends_on=True
        )
    )
    task: tasks_pb2.Task = answer.task
    return task


def history(srv: ServerProcess, task_id: str) -> list[tasks_pb2.TaskEvent]:
    answer = srv.tasks.GetTaskHistory(tasks_pb2.GetTaskHistoryRequest(id=task_id))
    return list(answer.events)


def test_a_dependent_waits_then_runs_after_its_dependency_succeeds(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    first = create_task(srv, "first", "sleep 0.3")
    second = create_task(srv, "second", "true", depends_on=after(first.id))

    assert second.status == WAITING
    waiting = get_task(srv, second.id)
    assert first.id in waiting.blocked_by
    done = wait_settled(srv, second.id)
    first_done = get_task(srv, first.id)

    assert done.status == COMPLETED
    assert seconds(done.started_at) >= seconds(first_done.finished_at)
    reasons = [e.reason for e in history(srv, second.id)]
    assert reasons[:2] == ["created", "dependencies met"]


def test_a_failure_propagates_down_a_chain_with_reasons(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root", "exit 4")
    middle = create_task(srv, "middle", "true", depends_on=after(root.id))
    leaf = create_task(srv, "leaf", "true", depends_on=after(middle.id))

    leaf_done = wait_settled(srv, leaf.id)
    middle_done = get_task(srv, middle.id)

    assert get_task(srv, root.id).status == FAILED
    assert middle_done.status == CANCELLED
    assert root.id in middle_done.status_reason
    assert "success condition can never hold" in middle_done.status_reason
    assert leaf_done.status == CANCELLED
    assert middle.id in leaf_done.status_reason
    assert not middle_done.HasField("exit_code")


def test_a_failure_edge_runs_its_task_and_a_success_edge_does_not(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root", "exit 1")
    on_failure = create_task(
        srv, "on-failure", "true", depends_on=after(root.id, condition=FAILURE)
    )
    on_success = create_task(srv, "on-success", "true", depends_on=after(root.id))
    either = create_task(
        srv, "either", "true", depends_on=after(root.id, condition=COMPLETION)
    )

    assert wait_settled(srv, on_failure.id).status == COMPLETED
    assert wait_settled(srv, on_success.id).status == CANCELLED
    assert wait_settled(srv, either.id).status == COMPLETED


def test_a_failure_edge_is_cancelled_when_its_dependency_succeeds(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root", "true")
    handler = create_task(
        srv, "handler", "true", depends_on=after(root.id, condition=FAILURE)
    )

    done = wait_settled(srv, handler.id)

    assert done.status == CANCELLED
    assert "failure condition can never hold" in done.status_reason


def test_depending_on_a_task_that_already_failed_cancels_at_once(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = wait_settled(shared_server, create_task(srv, "root", "false").id)

    late = create_task(srv, "late", "true", depends_on=after(root.id))

    assert late.status == CANCELLED
    assert root.id in late.status_reason


def test_an_unknown_dependency_is_invalid_argument_naming_the_field(
    shared_server: ServerProcess,
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"

    error = rpc_error(
        lambda: create_task(shared_server, "x", "true", depends_on=after(missing))
    )

    assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(error).startswith("depends_on[0].task_id:")
    assert missing in details_of(error)


def test_every_cycle_made_through_an_update_is_refused(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    a = create_task(srv, "a")
    b = create_task(srv, "b", depends_on=after(a.id))
    c = create_task(srv, "c", depends_on=after(b.id))

    cases = [
        (a.id, after(a.id), [a.id, a.id]),
        (a.id, after(b.id), [a.id, b.id, a.id]),
        (a.id, after(c.id), [a.id, c.id, b.id, a.id]),
    ]
    for task_id, edges, cycle in cases:
        error = rpc_error(
            lambda task_id=task_id, edges=edges: set_depends_on(srv, task_id, edges)
        )
        assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
        assert details_of(error).startswith("depends_on: would form a cycle")
        assert " -> ".join(cycle) in details_of(error)

    assert list(get_task(srv, a.id).depends_on) == []


def test_an_update_can_add_a_dependency_that_makes_a_task_wait(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    blocker = create_task(srv, "blocker", "sleep 30")
    later = create_task(srv, "later", "true", start_after=timestamp_in(30))

    updated = srv.tasks.UpdateTask(
        tasks_pb2.UpdateTaskRequest(
            id=later.id,
            depends_on=after(blocker.id),
            update_depends_on=True,
            clear_start_after=True,
        )
    ).task

    assert updated.status == WAITING
    assert not updated.HasField("start_after")
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=blocker.id))
    done = wait_settled(srv, later.id)
    assert done.status == CANCELLED
    assert blocker.id in done.status_reason


def test_a_task_with_dependents_is_deleted_only_with_cascade(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root")
    child = create_task(srv, "child", depends_on=after(root.id))
    grandchild = create_task(srv, "grandchild", depends_on=after(child.id))
    other = create_task(srv, "other")

    error = rpc_error(
        lambda: srv.tasks.DeleteTask(tasks_pb2.DeleteTaskRequest(id=root.id))
    )
    assert code_of(error) == grpc.StatusCode.FAILED_PRECONDITION
    assert child.id in details_of(error)
    assert get_task(srv, root.id).id == root.id

    answer = srv.tasks.DeleteTask(tasks_pb2.DeleteTaskRequest(id=root.id, cascade=True))

    assert answer.id == root.id
    assert set(answer.deleted_ids) == {root.id, child.id, grandchild.id}
    for gone in (root.id, child.id, grandchild.id):
        missing = rpc_error(lambda gone=gone: get_task(srv, gone))
        assert code_of(missing) == grpc.StatusCode.NOT_FOUND
    assert get_task(srv, other.id).id == other.id


def test_settled_dependents_still_protect_their_dependency(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root", "true")
    child = create_task(srv, "child", "true", depends_on=after(root.id))
    wait_settled(srv, child.id)

    error = rpc_error(
        lambda: srv.tasks.DeleteTask(tasks_pb2.DeleteTaskRequest(id=root.id))
    )

    assert code_of(error) == grpc.StatusCode.FAILED_PRECONDITION


def test_cancelling_a_dependency_cancels_its_waiting_dependents(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root", "sleep 30")
    wait_running(srv, root.id)
    child = create_task(srv, "child", "true", depends_on=after(root.id))

    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=root.id, reason="stop"))

    done = wait_settled(srv, child.id)
    assert done.status == CANCELLED
    assert f"dependency {root.id} (root) cancelled" in done.status_reason


def test_retrying_a_dependency_makes_a_queued_dependent_wait_again(
    server: ServerFactory,
) -> None:
    srv = server(slots=1)
    blocker = create_task(srv, "blocker", "sleep 30")
    wait_running(srv, blocker.id)
    root = create_task(srv, "root", "true")
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=root.id))
    gated = create_task(
        srv, "gated", "true", depends_on=after(root.id, condition=COMPLETION)
    )
    assert gated.status == PENDING

    srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=root.id))

    assert wait_for_status(srv, gated.id, WAITING).status == WAITING
    srv.tasks.CancelTask(tasks_pb2.CancelTaskRequest(id=blocker.id))
    assert wait_settled(srv, gated.id).status == COMPLETED
    assert seconds(get_task(srv, gated.id).started_at) >= seconds(
        get_task(srv, root.id).finished_at
    )


def test_a_dependent_of_a_cancelled_task_cannot_be_retried_alone(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root", "false")
    child = create_task(srv, "child", "true", depends_on=after(root.id))
    wait_settled(srv, child.id)

    error = rpc_error(
        lambda: srv.tasks.RetryTask(tasks_pb2.RetryTaskRequest(id=child.id))
    )

    assert code_of(error) == grpc.StatusCode.FAILED_PRECONDITION
    assert root.id in details_of(error)


@pytest.mark.parametrize("restart", ["stop", "kill"])
def test_dependencies_survive_a_restart(server: ServerFactory, restart: str) -> None:
    srv = server()
    root = create_task(srv, "root", "sleep 0.5")
    child = create_task(srv, "child", "true", depends_on=after(root.id))
    wait_running(srv, root.id)

    if restart == "stop":
        srv.stop()
    else:
        srv.kill()
    srv.start()

    assert wait_settled(srv, root.id).status == FAILED
    done = wait_settled(srv, child.id)
    assert done.status == CANCELLED
    assert root.id in done.status_reason


def test_dependents_cancelled_by_a_project_delete_keep_it_in_their_history(
    server: ServerFactory,
) -> None:
    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="doomed")
    ).project
    noted = create_task(srv, "noted", project_id=project.id)
    long = create_task(srv, "long", "sleep 60", project_id=project.id)
    pid = wait_running(srv, long.id, timeout=10).pid
    outside = create_task(srv, "outside", "true", depends_on=after(noted.id))
    ended = create_task(
        srv, "ended", "true", depends_on=after(long.id, condition=COMPLETION)
    )
    try:
        srv.projects.DeleteProject(
            projects_pb2.DeleteProjectRequest(id=project.id, cascade=True)
        )
    finally:
        kill_group(pid)

    for dependent, dependency in ((outside, noted), (ended, long)):
        deleted = f"dependency {dependency.id} was deleted"
        assert get_task(srv, dependent.id).status_reason == deleted
        steps = [
            (e.from_status, e.to_status, e.reason) for e in history(srv, dependent.id)
        ]
        assert steps == [
            (UNSPECIFIED, WAITING, "created"),
            (WAITING, CANCELLED, deleted),
        ]
    kept = {t.id: history(srv, t.id) for t in (outside, ended)}
    srv.restart()
    assert {task_id: history(srv, task_id) for task_id in kept} == kept


def test_one_dependency_with_two_conditions_is_refused(
    shared_server: ServerProcess,
) -> None:
    root = create_task(shared_server, "root")
    edges = after(root.id) + after(root.id, condition=FAILURE)

    error = rpc_error(lambda: create_task(shared_server, "x", "true", depends_on=edges))

    assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(error).startswith("depends_on[1].condition:")


def test_create_and_update_answers_say_what_the_task_waits_for(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    root = create_task(srv, "root")
    child = create_task(srv, "child", "true", depends_on=after(root.id))

    assert root.blocked_by.startswith("tracking only")
    assert child.blocked_by.startswith(f"waiting for dependency {root.id} (root)")
    renamed = srv.tasks.UpdateTask(
        tasks_pb2.UpdateTaskRequest(id=child.id, name="renamed")
    ).task
    assert renamed.blocked_by == child.blocked_by
