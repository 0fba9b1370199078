"""Deadline-bound waiting and small task helpers for the gRPC tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from tests.server_process import ServerProcess
from tq_grpc._gen import common_pb2, tasks_pb2

T = TypeVar("T")

TERMINAL = frozenset(
    (
        common_pb2.TASK_STATUS_COMPLETED,
        common_pb2.TASK_STATUS_FAILED,
        common_pb2.TASK_STATUS_CANCELLED,
    )
)


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "the condition",
) -> T:
    """Return the first truthy value of probe; fail once timeout has passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def create_task(
    server: ServerProcess, name: str, command: str = "", **fields: Any
) -> tasks_pb2.Task:
    """Create a task and return it as the server stored it."""
    spec = tasks_pb2.TaskSpec(name=name, command=command, **fields)
    answer = server.tasks.CreateTask(tasks_pb2.CreateTaskRequest(task=spec))
    task: tasks_pb2.Task = answer.task
    return task


def get_task(server: ServerProcess, task_id: str) -> tasks_pb2.Task:
    """Return the current state of a task."""
    task: tasks_pb2.Task = server.tasks.GetTask(
        tasks_pb2.GetTaskRequest(id=task_id)
    ).task
    return task


def wait_for_status(
    server: ServerProcess, task_id: str, *statuses: int, timeout: float = 5.0
) -> tasks_pb2.Task:
    """Return the task once its status is one of statuses."""

    def probe() -> tasks_pb2.Task | None:
        task = get_task(server, task_id)
        return task if task.status in statuses else None

    names = ", ".join(common_pb2.TaskStatus.Name(s) for s in statuses)
    return wait_until(probe, timeout=timeout, what=f"task {task_id} to be {names}")


def wait_settled(
    server: ServerProcess, task_id: str, timeout: float = 5.0
) -> tasks_pb2.Task:
    """Return the task once it is completed, failed or cancelled."""
    return wait_for_status(server, task_id, *TERMINAL, timeout=timeout)


def wait_running(
    server: ServerProcess, task_id: str, timeout: float = 5.0
) -> tasks_pb2.Task:
    """Return the task once it is running."""
    return wait_for_status(
        server, task_id, common_pb2.TASK_STATUS_RUNNING, timeout=timeout
    )


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    """Run call and return the RpcError it raised; fail if it raised none."""
    try:
        call()
    except grpc.RpcError as exc:
        return exc
    raise AssertionError("the call succeeded; an error status was expected")


def code_of(error: grpc.RpcError) -> grpc.StatusCode:
    """Return the status code of a failed call."""
    code: grpc.StatusCode = error.code()
    return code


def details_of(error: grpc.RpcError) -> str:
    """Return the status message of a failed call."""
    details: str = error.details() or ""
    return details


def seconds(stamp: Timestamp) -> float:
    """Return a protobuf Timestamp as float seconds."""
    return float(stamp.seconds + stamp.nanos / 1e9)


def timestamp_in(delay: float) -> Timestamp:
    """Return a Timestamp delay seconds from now."""
    stamp = Timestamp()
    stamp.FromNanoseconds(round((time.time() + delay) * 1e9))
    return stamp
