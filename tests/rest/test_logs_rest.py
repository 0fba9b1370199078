"""GET /tasks/{id}/logs: raw bytes by offset, and following a live task."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.rest.live import create_task, error_of, wait_status

NOT_UTF8 = "printf 'caf\\351\\n\\377\\376end'"


def test_logs_are_raw_bytes_with_offset_headers_even_when_not_utf8(
    client: httpx.Client,
) -> None:
    task = create_task(client, "latin1", command=NOT_UTF8)
    wait_status(client, task["id"], "completed")

    response = client.get(f"/tasks/{task['id']}/logs")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b"caf\xe9\n\xff\xfeend"
    assert response.headers["x-next-offset"] == str(len(response.content))
    assert response.headers["x-log-size"] == str(len(response.content))
    assert response.headers["x-log-eof"] == "true"
    assert response.headers["x-log-truncated"] == "false"


def test_offset_and_max_bytes_select_a_slice(client: httpx.Client) -> None:
    task = create_task(client, "digits", command="printf 0123456789")
    wait_status(client, task["id"], "completed")

    response = client.get(
        f"/tasks/{task['id']}/logs", params={"offset": 3, "max_bytes": 4}
    )

    assert response.content == b"3456"
    assert response.headers["x-next-offset"] == "7"
    assert response.headers["x-log-eof"] == "false"


def test_logs_of_an_unknown_task_are_404_and_bad_bounds_are_422(
    client: httpx.Client,
) -> None:
    missing = client.get(f"/tasks/{uuid.uuid4()}/logs")
    negative = client.get(f"/tasks/{uuid.uuid4()}/logs", params={"offset": -1})
    huge = client.get(
        f"/tasks/{uuid.uuid4()}/logs", params={"max_bytes": 2 * 1024 * 1024}
    )

    assert missing.status_code == 404
    assert error_of(negative)["field"] == "offset"
    assert error_of(huge)["field"] == "max_bytes"


def test_follow_streams_output_as_printed_until_the_task_ends(
    client: httpx.Client,
) -> None:
    task = create_task(
        client,
        "ticks",
        command="for i in 1 2 3; do echo tick$i; sleep 0.3; done; printf '\\377'",
    )
    wait_status(client, task["id"], "running")

    chunks = []
    arrival = []
    with client.stream(
        "GET", f"/tasks/{task['id']}/logs", params={"follow": "true"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        for chunk in response.iter_raw():
            chunks.append(chunk)
            arrival.append(time.monotonic())

    assert b"".join(chunks) == b"tick1\ntick2\ntick3\n\xff"
    assert arrival[-1] - arrival[0] > 0.3
    assert wait_status(client, task["id"], "completed")["exit_code"] == 0


def test_follow_of_a_finished_task_returns_the_whole_log(
    client: httpx.Client,
) -> None:
    task = create_task(client, "done", command="echo all")
    wait_status(client, task["id"], "completed")

    response = client.get(f"/tasks/{task['id']}/logs", params={"follow": "true"})

    assert response.content == b"all\n"


def test_follow_of_an_unknown_task_is_a_json_404(client: httpx.Client) -> None:
    response = client.get(f"/tasks/{uuid.uuid4()}/logs", params={"follow": "true"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
