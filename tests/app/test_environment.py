"""What the server passes on to task commands."""

from __future__ import annotations

from taskqueue.app import task_environment


def test_server_settings_and_the_api_key_never_reach_tasks() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "TASK_QUEUE_API_KEY": "s3cret",
        "TASK_QUEUE_GRPC_PORT": "16081",
    }

    assert task_environment(environ) == {"PATH": "/usr/bin", "HOME": "/home/u"}
