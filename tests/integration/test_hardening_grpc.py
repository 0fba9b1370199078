"""Inputs and situations that once broke the server, driven over gRPC."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import grpc
import pytest

from tests.integration.polling import create_task, wait_running, wait_settled
from tests.server_process import ServerFactory, ServerProcess
from tq_grpc._gen import common_pb2, tasks_pb2

CREATE_TASK = "/taskqueue.v1.TaskService/CreateTask"


def test_a_timeout_too_long_for_epoll_leaves_the_runner_working(
    shared_server: ServerProcess,
) -> None:
    # 2,147,484 s is just past the largest epoll wait (2**31 ms).
    long = create_task(shared_server, "long", "echo a", timeout_seconds=2_147_484)
    after = create_task(shared_server, "after", "echo b")

    assert wait_settled(shared_server, long.id).exit_code == 0
    assert wait_settled(shared_server, after.id).exit_code == 0


def test_a_timeout_beyond_a_year_is_refused_naming_the_field(
    shared_server: ServerProcess,
) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        create_task(shared_server, "t", "true", timeout_seconds=10**9)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "timeout_seconds" in (refused.value.details() or "")


@pytest.mark.parametrize(
    "raw",
    [
        # TaskSpec field 1 (name) holding the invalid UTF-8 bytes ff fe.
        b"\x0a\x04\x0a\x02\xff\xfe",
        b"\x0a\xff\xff",  # a length that runs past the end
        b"garbage that is not protobuf \x00\xff",
    ],
)
def test_a_request_that_does_not_decode_gets_invalid_argument(
    shared_server: ServerProcess, raw: bytes
) -> None:
    call = shared_server.channel.unary_unary(CREATE_TASK)

    with pytest.raises(grpc.RpcError) as refused:
        call(raw, timeout=5)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_watching_events_with_a_malformed_task_id_is_refused(
    shared_server: ServerProcess,
) -> None:
    stream = shared_server.tasks.WatchEvents(
        tasks_pb2.WatchEventsRequest(task_ids=["not-a-uuid"]), timeout=5
    )

    with pytest.raises(grpc.RpcError) as refused:
        next(iter(stream))

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "task_ids" in (refused.value.details() or "")


def test_a_server_that_cannot_bind_its_port_runs_nothing(
    server: ServerFactory, tmp_path: Path
) -> None:
    srv = server(slots=1)
    marker = tmp_path / "ran"
    blocker = create_task(srv, "blocker", "sleep 60")
    wait_running(srv, blocker.id)
    queued = create_task(srv, "queued", f"touch {marker}")
    assert srv.stop() == 0

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        second = srv.launch(grpc_port=taken.getsockname()[1])
        try:
            returncode = second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()
            raise

    assert returncode == 1
    assert not marker.exists()
    srv.start()
    assert wait_settled(srv, queued.id).status == common_pb2.TASK_STATUS_COMPLETED
    assert marker.exists()


def test_listing_the_tasks_of_an_unknown_project_is_not_found(
    shared_server: ServerProcess,
) -> None:
    request = tasks_pb2.ListTasksRequest(
        project_id="00000000-0000-4000-8000-000000000000"
    )

    with pytest.raises(grpc.RpcError) as refused:
        shared_server.tasks.ListTasks(request, timeout=5)

    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


def test_an_idempotency_key_reused_with_other_fields_is_already_exists(
    shared_server: ServerProcess,
) -> None:
    first = create_task(shared_server, "once", "true", idempotency_key="key-9")
    again = create_task(shared_server, "once", "true", idempotency_key="key-9")

    with pytest.raises(grpc.RpcError) as refused:
        create_task(shared_server, "other", "false", idempotency_key="key-9")

    assert again.id == first.id
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.id in (refused.value.details() or "")
