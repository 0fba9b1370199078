"""ReadTaskLog and FollowTaskLog over gRPC."""

from __future__ import annotations

import time

from tests.integration.polling import create_task, get_task, wait_settled
from tests.server_process import ServerProcess
from tq_grpc._gen import common_pb2, tasks_pb2


def test_output_that_is_not_utf8_is_served_byte_for_byte_by_read_and_follow(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "binary", r"printf '\377\376abc'")
    wait_settled(srv, task.id)

    read = srv.tasks.ReadTaskLog(tasks_pb2.ReadTaskLogRequest(id=task.id))
    followed = [
        message.data
        for message in srv.tasks.FollowTaskLog(
            tasks_pb2.FollowTaskLogRequest(id=task.id), timeout=10
        )
    ]

    assert read.data == b"\xff\xfeabc"
    assert read.eof
    assert b"".join(followed) == b"\xff\xfeabc"


def test_reading_a_log_from_an_offset_returns_the_rest(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(srv, "letters", "printf abcdef")
    wait_settled(srv, task.id)

    read = srv.tasks.ReadTaskLog(
        tasks_pb2.ReadTaskLogRequest(id=task.id, offset=2, max_bytes=3)
    )
    rest = srv.tasks.ReadTaskLog(
        tasks_pb2.ReadTaskLogRequest(id=task.id, offset=read.next_offset)
    )

    assert (read.data, read.next_offset, read.eof) == (b"cde", 5, False)
    assert (rest.data, rest.next_offset, rest.eof) == (b"f", 6, True)


def test_follow_task_log_streams_lines_as_printed_and_ends_with_the_task(
    shared_server: ServerProcess,
) -> None:
    srv = shared_server
    task = create_task(
        srv, "ticker", "for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done"
    )

    arrivals = []
    for message in srv.tasks.FollowTaskLog(
        tasks_pb2.FollowTaskLogRequest(id=task.id), timeout=10
    ):
        arrivals.append((time.monotonic(), message.offset, message.data))
    ended = time.monotonic()

    data = b"".join(chunk for _, _, chunk in arrivals)
    assert data == b"".join(b"line%d\n" % i for i in range(1, 6))
    offsets = [offset for _, offset, _ in arrivals]
    assert offsets == [
        sum(len(c) for _, _, c in arrivals[:i]) for i in range(len(arrivals))
    ]
    assert len(arrivals) >= 3, "the output arrived in one piece, not streamed"
    assert arrivals[0][0] < ended - 0.5
    assert get_task(srv, task.id).status == common_pb2.TASK_STATUS_COMPLETED


def test_following_the_log_of_a_tracking_only_task_ends_at_once(
    shared_server: ServerProcess,
) -> None:
    task = create_task(shared_server, "tracking only")

    chunks = list(
        shared_server.tasks.FollowTaskLog(
            tasks_pb2.FollowTaskLogRequest(id=task.id), timeout=5
        )
    )

    assert chunks == []
