"""GET /events: task transitions as server-sent events."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from tests.rest.live import RestServer, create_task, error_of


def _events(lines: Iterator[str]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Yield (id, data) of each event; comments and blank lines are skipped."""
    event_id = None
    for line in lines:
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            yield event_id, json.loads(line[6:])
            event_id = None


def test_events_stream_task_transitions_as_json(rest_server: RestServer) -> None:
    created: list[str] = []
    stop = threading.Event()

    def keep_creating() -> None:
        # The subscription starts asynchronously; create until one is seen.
        with rest_server.client() as writer:
            while not stop.wait(0.1):
                created.append(create_task(writer, "announced")["id"])

    with (
        rest_server.client(timeout=20) as reader,
        reader.stream("GET", "/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        writer = threading.Thread(target=keep_creating)
        writer.start()
        try:
            event_id, event = next(
                (i, e)
                for i, e in _events(response.iter_lines())
                if e["task_id"] in created
            )
        finally:
            stop.set()
            writer.join()

    assert event_id == str(event["seq"])
    assert event["from_status"] is None
    assert event["to_status"] == "pending"
    assert event["reason"] == "created"
    assert event["exit_code"] is None
    assert event["at"].endswith("Z")


def test_events_can_be_narrowed_to_one_task(rest_server: RestServer) -> None:
    with rest_server.client() as http:
        watched = create_task(http, "watched")

    stop = threading.Event()

    def keep_changing() -> None:
        with rest_server.client() as writer:
            while not stop.wait(0.05):
                create_task(writer, "unwatched")
                writer.post(f"/tasks/{watched['id']}/cancel")
                writer.post(f"/tasks/{watched['id']}/retry")

    with (
        rest_server.client(timeout=20) as reader,
        reader.stream("GET", "/events", params={"task_id": watched["id"]}) as response,
    ):
        writer = threading.Thread(target=keep_changing)
        writer.start()
        try:
            stream = _events(response.iter_lines())
            seen = [next(stream)[1] for _ in range(3)]
        finally:
            stop.set()
            writer.join()

    assert {event["task_id"] for event in seen} == {watched["id"]}
    assert {event["to_status"] for event in seen} <= {"cancelled", "pending"}


def test_events_with_a_malformed_filter_are_422(client: httpx.Client) -> None:
    response = client.get("/events", params={"project": "nope"})

    assert response.status_code == 422
    assert error_of(response)["field"] == "project"


def test_events_filter_accepts_a_project(client: httpx.Client) -> None:
    project = str(uuid.uuid4())

    with client.stream("GET", "/events", params={"project": project}) as response:
        first = next(response.iter_lines())

    assert response.status_code == 200
    assert first.startswith(":")
