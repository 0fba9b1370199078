"""Task dependencies, delayed starts, automatic retries and cascading deletes.

A tracking-only task (no command) never runs, so a task depending on it
waits for as long as a test needs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.rest.live import (
    create_task,
    error_of,
    moment,
    wait_status,
    wait_until,
)

LATER = "2099-01-01T00:00:00Z"


def test_a_dependent_waits_naming_its_dependency_and_runs_after_it(
    client: httpx.Client,
) -> None:
    first = create_task(client, "first", command="sleep 1")
    second = create_task(
        client, "second", command="true", depends_on=[{"task_id": first["id"]}]
    )

    waiting = client.get(f"/tasks/{second['id']}").json()
    done_first = wait_status(client, first["id"], "completed")
    done_second = wait_status(client, second["id"], "completed")

    assert second["status"] == "waiting_for_dependencies"
    assert second["depends_on"] == [{"task_id": first["id"], "condition": "success"}]
    assert waiting["status"] == "waiting_for_dependencies"
    assert first["id"] in waiting["blocked_by"], waiting
    assert moment(done_second["started_at"]) >= moment(done_first["finished_at"])
    assert done_second["blocked_by"] == ""


def test_conditions_decide_which_dependents_run_when_a_task_fails(
    client: httpx.Client,
) -> None:
    failing = create_task(client, "failing", command="exit 4")
    edge = {"task_id": failing["id"]}
    on_success = create_task(client, "on-success", command="true", depends_on=[edge])
    on_failure = create_task(
        client,
        "on-failure",
        command="true",
        depends_on=[{**edge, "condition": "failure"}],
    )
    on_end = create_task(
        client,
        "on-end",
        command="true",
        depends_on=[{**edge, "condition": "completion"}],
    )

    skipped = wait_status(client, on_success["id"], "cancelled", "completed")
    wait_status(client, on_failure["id"], "completed")
    wait_status(client, on_end["id"], "completed")

    assert skipped["status"] == "cancelled"
    assert failing["id"] in skipped["status_reason"], skipped
    assert skipped["started_at"] is None


def test_a_naive_start_after_is_422_naming_start_after(client: httpx.Client) -> None:
    created = client.post(
        "/tasks", json={"name": "naive", "start_after": "2030-01-01T09:00:00"}
    )
    task = create_task(client, "later", start_after=LATER)
    changed = client.put(
        f"/tasks/{task['id']}", json={"start_after": "2030-01-01T09:00:00"}
    )

    for response in (created, changed):
        assert response.status_code == 422, response.text
        error = error_of(response)
        assert error["field"] == "start_after"
        assert "offset" in error["message"]


def test_a_delayed_task_waits_until_start_after_is_cleared(
    client: httpx.Client,
) -> None:
    task = create_task(client, "delayed", command="true", start_after=LATER)

    waiting = client.get(f"/tasks/{task['id']}").json()
    moved = client.put(
        f"/tasks/{task['id']}", json={"start_after": "2098-06-01T12:00:00+02:00"}
    )
    cleared = client.put(f"/tasks/{task['id']}", json={"start_after": None})
    done = wait_status(client, task["id"], "completed")

    assert task["start_after"] == "2099-01-01T00:00:00.000000Z"
    assert waiting["status"] == "pending"
    assert "start_after" in waiting["blocked_by"], waiting
    assert moved.status_code == 200, moved.text
    assert moved.json()["start_after"] == "2098-06-01T10:00:00.000000Z"
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["start_after"] is None
    assert done["attempt"] == 1


def test_a_task_starts_once_start_after_has_passed(client: httpx.Client) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1)

    task = create_task(client, "soon", command="true", start_after=soon.isoformat())
    done = wait_status(client, task["id"], "completed")

    assert moment(done["started_at"]) >= moment(task["start_after"])


def test_put_depends_on_replaces_the_dependencies(client: httpx.Client) -> None:
    never = create_task(client, "tracking only")
    task = create_task(
        client, "held", command="true", depends_on=[{"task_id": never["id"]}]
    )

    held = client.get(f"/tasks/{task['id']}").json()
    released = client.put(f"/tasks/{task['id']}", json={"depends_on": []})
    done = wait_status(client, task["id"], "completed")

    assert held["status"] == "waiting_for_dependencies"
    assert never["id"] in held["blocked_by"], held
    assert released.status_code == 200, released.text
    assert released.json()["depends_on"] == []
    assert done["depends_on"] == []


def test_put_depends_on_that_would_close_a_cycle_is_422(
    client: httpx.Client,
) -> None:
    first = create_task(client, "one")
    second = create_task(client, "two", depends_on=[{"task_id": first["id"]}])

    response = client.put(
        f"/tasks/{first['id']}", json={"depends_on": [{"task_id": second["id"]}]}
    )

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "invalid_argument"
    assert "cycle" in error["message"]
    assert client.get(f"/tasks/{first['id']}").json()["depends_on"] == []


def test_deleting_a_task_others_depend_on_is_409_unless_cascaded(
    client: httpx.Client,
) -> None:
    root = create_task(client, "root")
    child = create_task(client, "child", depends_on=[{"task_id": root["id"]}])
    grandchild = create_task(
        client, "grandchild", depends_on=[{"task_id": child["id"]}]
    )

    refused = client.delete(f"/tasks/{root['id']}")
    still = client.get(f"/tasks/{root['id']}")
    cascaded = client.delete(f"/tasks/{root['id']}", params={"cascade": "true"})

    assert refused.status_code == 409, refused.text
    error = error_of(refused)
    assert error["code"] == "failed_precondition"
    assert root["id"] in error["message"]
    assert still.status_code == 200
    assert cascaded.status_code == 200, cascaded.text
    body = cascaded.json()
    assert body["id"] == root["id"] and body["deleted"] is True
    assert body["deleted_ids"][0] == root["id"]
    assert sorted(body["deleted_ids"]) == sorted(
        [root["id"], child["id"], grandchild["id"]]
    )
    for task in (root, child, grandchild):
        assert client.get(f"/tasks/{task['id']}").status_code == 404


def test_a_failed_run_is_retried_after_the_delay(client: httpx.Client) -> None:
    task = create_task(
        client, "flaky", command="exit 2", max_retries=1, retry_delay_seconds=1.0
    )

    def awaiting_retry() -> dict[str, object] | None:
        seen: dict[str, object] = client.get(f"/tasks/{task['id']}").json()
        return seen if seen["retry_at"] is not None else None

    between = wait_until(awaiting_retry, what="a retry to be due")
    done = wait_status(client, task["id"], "failed", timeout=15)

    assert between["status"] != "failed", between
    assert "attempt" in str(between["blocked_by"]), between
    assert done["attempt"] == 2
    assert done["exit_code"] == 2
    assert done["retry_at"] is None
    assert moment(done["started_at"]) >= moment(str(between["retry_at"]))
