"""The server assembly: task environments and the HTTP socket."""

from __future__ import annotations

import socket

from taskqueue.app import _bind_http, task_environment


def test_server_settings_and_the_api_key_never_reach_tasks() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "TASK_QUEUE_API_KEY": "s3cret",
        "TASK_QUEUE_GRPC_PORT": "16081",
    }

    assert task_environment(environ) == {"PATH": "/usr/bin", "HOME": "/home/u"}


def test_the_http_socket_is_tcp_so_responses_are_not_delayed() -> None:
    # asyncio sets TCP_NODELAY on accepted connections only when the listening
    # socket names IPPROTO_TCP; without it each response waited 40 ms.
    sock = _bind_http("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
