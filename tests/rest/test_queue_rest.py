"""Pausing and resuming the queue over HTTP, on a server of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rest.live import RestServer, create_task, start_rest_server, wait_status


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RestServer]:
    """Return a server that only this test pauses."""
    server = start_rest_server(tmp_path)
    try:
        yield server
    finally:
        server.terminate()


def test_a_paused_queue_starts_nothing_until_it_is_resumed(
    own_server: RestServer,
) -> None:
    with own_server.client() as client:
        before = client.get("/queue")
        running = create_task(client, "running", command="sleep 1")
        wait_status(client, running["id"], "running")

        paused = client.post("/queue/pause")
        held = create_task(client, "held", command="true")
        time.sleep(0.5)
        while_paused = client.get(f"/tasks/{held['id']}").json()
        state = client.get("/queue").json()
        stats = client.get("/stats").json()
        finished = wait_status(client, running["id"], "completed")

        resumed = client.post("/queue/resume")
        done = wait_status(client, held["id"], "completed")

    assert before.status_code == 200
    assert before.json() == {"paused": False}
    assert paused.status_code == 200, paused.text
    assert paused.json() == {"paused": True}
    assert state == {"paused": True}
    assert stats["paused"] is True
    assert while_paused["status"] == "pending"
    assert "paused" in while_paused["blocked_by"], while_paused
    # What was already running went on.
    assert finished["exit_code"] == 0
    assert resumed.status_code == 200, resumed.text
    assert resumed.json() == {"paused": False}
    assert done["started_at"] is not None


def test_pause_and_resume_are_idempotent_and_pause_outlives_a_restart(
    own_server: RestServer,
) -> None:
    with own_server.client() as client:
        answers = [client.post("/queue/pause"), client.post("/queue/pause")]
    own_server.restart()
    with own_server.client() as client:
        after_restart = client.get("/queue").json()
        resumed = [client.post("/queue/resume"), client.post("/queue/resume")]
        final = client.get("/stats").json()

    assert [a.json() for a in answers] == [{"paused": True}] * 2
    assert after_restart == {"paused": True}
    assert [r.json() for r in resumed] == [{"paused": False}] * 2
    assert final["paused"] is False
