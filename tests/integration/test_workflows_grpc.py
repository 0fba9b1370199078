"""Workflows over gRPC: one atomic DAG, derived status, cancel and retry."""

from __future__ import annotations

import shlex
from pathlib import Path

import grpc

from tests.integration.polling import (
    code_of,
    create_task,
    details_of,
    get_task,
    rpc_error,
    seconds,
    wait_running,
    wait_until,
)
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, tasks_pb2, workflows_pb2

COMPLETED = common_pb2.TASK_STATUS_COMPLETED
CANCELLED = common_pb2.TASK_STATUS_CANCELLED
FAILED = common_pb2.TASK_STATUS_FAILED
WAITING = common_pb2.TASK_STATUS_WAITING_FOR_DEPENDENCIES
FAILURE = tasks_pb2.DEPENDENCY_CONDITION_FAILURE
WF = workflows_pb2


def item(
    key: str, command: str = "true", *after: str | tuple[str, int], **fields: object
) -> WF.WorkflowTaskSpec:
    edges = [
        WF.WorkflowDependency(key=a)
        if isinstance(a, str)
        else WF.WorkflowDependency(key=a[0], condition=a[1])
        for a in after
    ]
    return WF.WorkflowTaskSpec(
        key=key,
        task=tasks_pb2.TaskSpec(command=command, **fields),  # type: ignore[arg-type]
        depends_on=edges,
    )


def create(
    srv: ServerProcess, *items: WF.WorkflowTaskSpec, **fields: str
) -> WF.Workflow:
    request = WF.CreateWorkflowRequest(name="wf", tasks=items, **fields)
    workflow: WF.Workflow = srv.workflows.CreateWorkflow(request).workflow
    return workflow


def get(srv: ServerProcess, workflow_id: str) -> WF.Workflow:
    workflow: WF.Workflow = srv.workflows.GetWorkflow(
        WF.GetWorkflowRequest(id=workflow_id)
    ).workflow
    return workflow


def wait_workflow(
    srv: ServerProcess, workflow_id: str, timeout: float = 15
) -> WF.Workflow:
    ended = (
        WF.WORKFLOW_STATUS_COMPLETED,
        WF.WORKFLOW_STATUS_FAILED,
        WF.WORKFLOW_STATUS_CANCELLED,
    )
    return wait_until(
        lambda: (w := get(srv, workflow_id)).status in ended and w,
        timeout=timeout,
        what=f"workflow {workflow_id} to end",
    )


def by_key(workflow: WF.Workflow) -> dict[str, tasks_pb2.Task]:
    return {t.key: t.task for t in workflow.tasks}


def test_a_diamond_runs_in_a_valid_order(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    srv = shared_server
    log = shlex.quote(str(tmp_path / "order"))

    def step(key: str) -> str:
        return f"echo {key} >> {log}; sleep 0.1"

    workflow = create(
        srv,
        item("d", step("d"), "b", "c"),
        item("b", step("b"), "a"),
        item("c", step("c"), "a"),
        item("a", step("a")),
    )
    assert workflow.status == WF.WORKFLOW_STATUS_PENDING
    assert [t.key for t in workflow.tasks] == ["d", "b", "c", "a"]
    assert by_key(workflow)["d"].status == WAITING
    assert by_key(workflow)["d"].name == "d"

    done = wait_workflow(srv, workflow.id)

    assert done.status == WF.WORKFLOW_STATUS_COMPLETED
    assert done.progress.total == 4 and done.progress.completed == 4
    order = (tmp_path / "order").read_text().split()
    assert order[0] == "a" and order[-1] == "d"
    assert sorted(order[1:3]) == ["b", "c"]
    tasks = by_key(done)
    for before, later in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
        assert seconds(tasks[later].started_at) >= seconds(tasks[before].finished_at)
    edges = {(e.source_key, e.target_key) for e in done.edges}
    assert edges == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}
    assert all(t.workflow_id == workflow.id for t in tasks.values())


def test_a_failed_branch_cancels_its_dependents_and_runs_its_handler(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    workflow = create(
        srv,
        item("build", "exit 2"),
        item("test", "true", "build"),
        item("deploy", "true", "test"),
        item("notify", "true", ("build", FAILURE)),
        item("docs", "true"),
    )

    done = wait_workflow(srv, workflow.id)

    tasks = by_key(done)
    assert done.status == WF.WORKFLOW_STATUS_FAILED
    assert tasks["build"].status == FAILED
    assert tasks["test"].status == CANCELLED
    assert tasks["build"].id in tasks["test"].status_reason
    assert tasks["deploy"].status == CANCELLED
    assert tasks["test"].id in tasks["deploy"].status_reason
    assert tasks["notify"].status == COMPLETED
    assert tasks["docs"].status == COMPLETED
    assert done.progress.failed == 1 and done.progress.cancelled == 2


def test_an_unused_failure_handler_does_not_fail_the_workflow(
    shared_server: ServerProcess,
) -> None:
    workflow = create(
        shared_server, item("work", "true"), item("on-fail", "true", ("work", FAILURE))
    )

    done = wait_workflow(shared_server, workflow.id)

    assert done.status == WF.WORKFLOW_STATUS_COMPLETED
    assert by_key(done)["on-fail"].status == CANCELLED


def test_retry_reruns_failed_and_cancelled_tasks_and_what_they_gate(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    srv = shared_server
    marker = shlex.quote(str(tmp_path / "fixed"))
    workflow = create(
        srv,
        item("fetch", "true"),
        item("build", f"test -e {marker}", "fetch"),
        item("ship", "true", "build"),
    )
    failed = wait_workflow(srv, workflow.id)
    assert failed.status == WF.WORKFLOW_STATUS_FAILED
    fetch_attempt = by_key(failed)["fetch"].attempt
    (tmp_path / "fixed").touch()

    retried = srv.workflows.RetryWorkflow(WF.RetryWorkflowRequest(id=workflow.id))

    assert by_key(retried.workflow)["ship"].status == WAITING
    done = wait_workflow(srv, workflow.id)
    tasks = by_key(done)
    assert done.status == WF.WORKFLOW_STATUS_COMPLETED
    assert tasks["build"].attempt == 2
    assert tasks["ship"].attempt == 1
    assert tasks["fetch"].attempt == fetch_attempt


def test_retry_of_a_workflow_with_nothing_failed_is_refused(
    shared_server: ServerProcess,
) -> None:
    workflow = create(shared_server, item("only", "true"))
    wait_workflow(shared_server, workflow.id)

    error = rpc_error(
        lambda: shared_server.workflows.RetryWorkflow(
            WF.RetryWorkflowRequest(id=workflow.id)
        )
    )

    assert code_of(error) == grpc.StatusCode.FAILED_PRECONDITION


def test_cancel_ends_running_tasks_and_cancels_the_rest_with_its_reason(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    workflow = create(srv, item("long", "sleep 60"), item("after", "true", "long"))
    wait_running(srv, by_key(workflow)["long"].id)

    answer = srv.workflows.CancelWorkflow(
        WF.CancelWorkflowRequest(id=workflow.id, reason="release frozen")
    )

    cancelled = answer.workflow
    assert cancelled.status == WF.WORKFLOW_STATUS_CANCELLED
    for task in by_key(cancelled).values():
        assert task.status == CANCELLED
        assert task.status_reason == "release frozen"


def test_every_cycle_in_a_workflow_is_refused_naming_it(
    shared_server: ServerProcess,
) -> None:
    cases = [
        ([item("a", "true", "a")], "a -> a"),
        ([item("a", "true", "b"), item("b", "true", "a")], "a -> b -> a"),
        (
            [item("a", "true", "c"), item("b", "true", "a"), item("c", "true", "b")],
            " -> ",
        ),
    ]
    for items, cycle in cases:
        error = rpc_error(lambda items=items: create(shared_server, *items))
        assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
        assert details_of(error).startswith("tasks: depends_on forms a cycle")
        assert cycle in details_of(error)


def test_bad_workflow_documents_name_the_field(shared_server: ServerProcess) -> None:
    cases = [
        ([item("a"), item("b", "true", "nope")], "tasks[1].depends_on[0].key:"),
        ([item("a"), item("a")], "tasks[1].key:"),
        ([item("")], "tasks[0].key:"),
        ([item("a", "true", priority=9)], "tasks[0].priority:"),
    ]
    for items, field in cases:
        error = rpc_error(lambda items=items: create(shared_server, *items))
        assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
        assert details_of(error).startswith(field), details_of(error)
    error = rpc_error(lambda: create(shared_server))
    assert details_of(error).startswith("tasks:")


def test_a_refused_workflow_stores_nothing(shared_server: ServerProcess) -> None:
    srv = shared_server
    before = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=1000))

    rpc_error(lambda: create(srv, item("a"), item("b", "true", "a", "zzz")))

    after = srv.tasks.ListTasks(tasks_pb2.ListTasksRequest(page_size=1000))
    assert len(after.tasks) == len(before.tasks)


def test_a_workflow_task_may_depend_on_an_existing_task(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    outside = create_task(srv, "outside", "sleep 0.2")
    workflow = create(
        srv,
        item(
            "inside",
            "true",
            depends_on=[tasks_pb2.Dependency(task_id=outside.id)],
        ),
    )

    done = wait_workflow(srv, workflow.id)

    inside = by_key(done)["inside"]
    assert seconds(inside.started_at) >= seconds(get_task(srv, outside.id).finished_at)
    assert list(done.edges) == []


def test_workflows_are_listed_by_project_without_their_tasks(
    server: ServerFactory,
) -> None:
    from tq_grpc._gen import projects_pb2

    srv = server()
    project = srv.projects.CreateProject(
        projects_pb2.CreateProjectRequest(name="p")
    ).project
    mine = create(srv, item("a"), project_id=project.id)
    create(srv, item("b"))

    listed = srv.workflows.ListWorkflows(
        WF.ListWorkflowsRequest(project_id=project.id)
    ).workflows

    assert [w.id for w in listed] == [mine.id]
    assert list(listed[0].tasks) == []
    assert listed[0].progress.total == 1
    assert by_key(mine)["a"].project_id == project.id
    everything = srv.workflows.ListWorkflows(WF.ListWorkflowsRequest(page_size=1))
    assert len(everything.workflows) == 1 and everything.next_page_token


def test_an_unknown_workflow_is_not_found(shared_server: ServerProcess) -> None:
    error = rpc_error(
        lambda: get(shared_server, "00000000-0000-4000-8000-000000000000")
    )

    assert code_of(error) == grpc.StatusCode.NOT_FOUND


def test_a_workflow_survives_a_restart(server: ServerFactory, tmp_path: Path) -> None:
    srv = server()
    gate = tmp_path / "gate"
    workflow = create(
        srv,
        item("first", f"while [ ! -e {shlex.quote(str(gate))} ]; do sleep 0.05; done"),
        item("second", "true", "first"),
    )

    srv.stop()
    gate.touch()
    srv.start()

    after = get(srv, workflow.id)
    assert by_key(after)["second"].status in (WAITING, CANCELLED)
    srv.workflows.RetryWorkflow(WF.RetryWorkflowRequest(id=workflow.id))
    done = wait_workflow(srv, workflow.id)
    assert done.status == WF.WORKFLOW_STATUS_COMPLETED


def test_cancelling_an_ended_workflow_is_refused(shared_server: ServerProcess) -> None:
    workflow = create(shared_server, item("only", "true"))
    wait_workflow(shared_server, workflow.id)

    error = rpc_error(
        lambda: shared_server.workflows.CancelWorkflow(
            WF.CancelWorkflowRequest(id=workflow.id)
        )
    )

    assert code_of(error) == grpc.StatusCode.FAILED_PRECONDITION
    assert get(shared_server, workflow.id).status == WF.WORKFLOW_STATUS_COMPLETED


def test_a_workflow_goes_with_its_last_task(shared_server: ServerProcess) -> None:
    srv = shared_server
    workflow = create(srv, item("a", "true"), item("b", "true", "a"))
    wait_workflow(srv, workflow.id)

    srv.tasks.DeleteTask(
        tasks_pb2.DeleteTaskRequest(id=by_key(workflow)["a"].id, cascade=True)
    )

    error = rpc_error(lambda: get(srv, workflow.id))
    assert code_of(error) == grpc.StatusCode.NOT_FOUND


def test_conflicting_edges_to_one_key_are_refused(shared_server: ServerProcess) -> None:
    error = rpc_error(
        lambda: create(shared_server, item("a"), item("b", "true", "a", ("a", FAILURE)))
    )

    assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(error).startswith("tasks[1].depends_on[1].condition:")


def test_the_created_workflow_says_what_its_tasks_wait_for(
    shared_server: ServerProcess,
) -> None:
    workflow = create(shared_server, item("a", "sleep 0.2"), item("b", "true", "a"))

    blocked = by_key(workflow)["b"].blocked_by

    assert blocked.startswith(f"waiting for dependency {by_key(workflow)['a'].id} (a)")


def test_an_idempotency_key_already_used_is_refused_in_a_workflow(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    keyed = item("a", "true", idempotency_key="wf-key-1")
    create(srv, keyed)

    again = rpc_error(lambda: create(srv, keyed))
    twice = rpc_error(
        lambda: create(
            srv,
            item("a", "true", idempotency_key="wf-key-2"),
            item("b", "true", idempotency_key="wf-key-2"),
        )
    )

    assert code_of(again) == grpc.StatusCode.ALREADY_EXISTS
    assert details_of(again).startswith("tasks[0].idempotency_key:")
    assert code_of(twice) == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(twice).startswith("tasks[1].idempotency_key:")


def test_a_one_task_workflow_names_the_task_in_errors(
    shared_server: ServerProcess,
) -> None:
    missing = tasks_pb2.Dependency(task_id="00000000-0000-4000-8000-000000000000")

    error = rpc_error(
        lambda: create(shared_server, item("a", "true", depends_on=[missing]))
    )

    assert details_of(error).startswith("tasks[0].depends_on[0].task_id:")


def test_a_workflow_task_is_held_to_the_dependency_limit(
    shared_server: ServerProcess,
) -> None:
    items = [item(f"k{i}") for i in range(1001)]
    items.append(item("join", "true", *[f"k{i}" for i in range(1001)]))

    error = rpc_error(lambda: create(shared_server, *items))

    assert details_of(error).startswith("tasks[1001].depends_on:")


def test_retrying_a_workflow_whose_only_cancel_was_a_skipped_branch_is_refused(
    shared_server: ServerProcess,
) -> None:
    workflow = create(
        shared_server, item("work", "true"), item("on-fail", "true", ("work", FAILURE))
    )
    wait_workflow(shared_server, workflow.id)

    error = rpc_error(
        lambda: shared_server.workflows.RetryWorkflow(
            WF.RetryWorkflowRequest(id=workflow.id)
        )
    )

    assert code_of(error) == grpc.StatusCode.FAILED_PRECONDITION


def test_a_basic_read_outlines_each_task_and_gives_edges_by_key(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    workflow = create(
        srv,
        item("build", "exit 3", env={"SECRET": "x"}, tags=["ci"]),
        item("test", "true", "build"),
        item("notify", "true", ("build", FAILURE)),
    )
    wait_workflow(srv, workflow.id)
    full = get(srv, workflow.id)

    basic: WF.Workflow = srv.workflows.GetWorkflow(
        WF.GetWorkflowRequest(id=workflow.id, view=WF.WORKFLOW_VIEW_BASIC)
    ).workflow

    assert basic.status == full.status == WF.WORKFLOW_STATUS_FAILED
    assert basic.progress == full.progress
    assert [t.key for t in basic.tasks] == ["build", "test", "notify"]
    for outline, task in zip(basic.tasks, full.tasks, strict=True):
        kept = ("id", "name", "project_id", "status", "status_reason", "attempt")
        kept += ("started_at", "finished_at", "blocked_by")
        assert {f: getattr(outline.task, f) for f in kept} == {
            f: getattr(task.task, f) for f in kept
        }
        # The rest is left out: that is what makes the read cheap.
        assert outline.task.command == "" and not outline.task.env
        assert not outline.task.tags and not outline.task.depends_on
        assert not outline.task.HasField("created_at")
    assert by_key(basic)["build"].exit_code == 3
    assert by_key(basic)["test"].status == CANCELLED
    assert {(e.source_key, e.target_key, e.condition) for e in basic.edges} == {
        (e.source_key, e.target_key, e.condition) for e in full.edges
    }
    assert all(not e.source_task_id and not e.target_task_id for e in basic.edges)
    assert basic.ByteSize() < full.ByteSize() * 0.6


def test_an_unknown_workflow_view_is_refused_naming_the_field(
    shared_server: ServerProcess,
) -> None:
    workflow = create(shared_server, item("a", ""))

    error = rpc_error(
        lambda: shared_server.workflows.GetWorkflow(
            WF.GetWorkflowRequest(id=workflow.id, view=7)  # type: ignore[arg-type]
        )
    )

    assert code_of(error) == grpc.StatusCode.INVALID_ARGUMENT
    assert "view" in details_of(error)


def test_a_basic_read_says_what_each_task_waits_for_as_a_full_read_does(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    later = tasks_pb2.TaskSpec(name="later", command="true")
    later.start_after.FromSeconds(4_102_444_800)  # 2100-01-01
    outside = srv.tasks.CreateTask(tasks_pb2.CreateTaskRequest(task=later)).task
    gate = item("gate", "true")
    gate.task.start_after.FromSeconds(4_102_444_800)
    on_outside = item("on-outside", "true")
    on_outside.task.depends_on.add(task_id=outside.id)
    workflow = create(
        srv, gate, item("after-gate", "true", "gate"), on_outside, item("note", "")
    )

    full = by_key(get(srv, workflow.id))
    basic = by_key(
        srv.workflows.GetWorkflow(
            WF.GetWorkflowRequest(id=workflow.id, view=WF.WORKFLOW_VIEW_BASIC)
        ).workflow
    )

    assert {k: t.blocked_by for k, t in basic.items()} == {
        k: t.blocked_by for k, t in full.items()
    }
    assert "start_after" in basic["gate"].blocked_by
    assert full["gate"].id in basic["after-gate"].blocked_by
    assert outside.id in basic["on-outside"].blocked_by
    assert "tracking only" in basic["note"].blocked_by
