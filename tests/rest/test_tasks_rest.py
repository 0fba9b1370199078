"""The /tasks routes over HTTP against a real server."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.rest.live import create_task, error_of, wait_status

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TASK_FIELDS = {
    "id",
    "name",
    "command",
    "description",
    "project_id",
    "priority",
    "status",
    "depends_on",
    "working_dir",
    "env",
    "timeout_seconds",
    "max_retries",
    "retry_delay_seconds",
    "start_after",
    "tags",
    "idempotency_key",
    "attempt",
    "exit_code",
    "status_reason",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
    "development_workflow",
    "pid",
    "blocked_by",
    "workflow_id",
    "retry_at",
    "development",
}


def _project(client: httpx.Client, name: str = "p") -> str:
    response = client.post("/projects", json={"name": name})
    assert response.status_code == 201, response.text
    project_id: str = response.json()["id"]
    return project_id


def test_create_task_returns_201_with_snake_case_fields_and_lower_case_enums(
    client: httpx.Client,
) -> None:
    project_id = _project(client)

    response = client.post(
        "/tasks",
        json={
            "name": "build",
            "command": "",
            "description": "compile it",
            "project_id": project_id,
            "priority": "high",
            "working_dir": "/tmp",
            "env": {"MODE": "fast"},
            "timeout_seconds": 30,
            "tags": ["ci", "nightly"],
            "idempotency_key": f"key-{uuid.uuid4()}",
        },
    )

    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert task["priority"] == "high"
    assert task["status"] == "pending"
    assert task["project_id"] == project_id
    assert task["env"] == {"MODE": "fast"}
    assert task["tags"] == ["ci", "nightly"]
    assert task["exit_code"] is None
    assert task["started_at"] is None and task["finished_at"] is None
    assert RFC3339_UTC.match(task["created_at"])
    assert uuid.UUID(task["id"])


def test_a_repeated_idempotency_key_returns_the_first_task(
    client: httpx.Client,
) -> None:
    key = f"once-{uuid.uuid4()}"
    first = create_task(client, "once", idempotency_key=key)

    again = create_task(client, "once", idempotency_key=key)
    other = client.post("/tasks", json={"name": "twice", "idempotency_key": key})

    assert again["id"] == first["id"]
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "already_exists"


def test_a_task_runs_and_reports_exit_code_times_and_history(
    client: httpx.Client,
) -> None:
    task = create_task(client, "fails", command="exit 3")

    done = wait_status(client, task["id"], "failed")
    history = client.get(f"/tasks/{task['id']}/history")

    assert done["exit_code"] == 3
    assert RFC3339_UTC.match(done["started_at"])
    assert RFC3339_UTC.match(done["finished_at"])
    assert history.status_code == 200
    events = history.json()
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "pending"),
        ("pending", "running"),
        ("running", "failed"),
    ]
    assert events[-1]["exit_code"] == 3
    assert all(RFC3339_UTC.match(e["at"]) for e in events)


def test_get_task_returns_the_stored_task(client: httpx.Client) -> None:
    task = create_task(client, "look")

    response = client.get(f"/tasks/{task['id']}")

    assert response.status_code == 200
    assert response.json() == task


def test_get_of_an_unknown_task_is_404_and_of_a_malformed_id_is_422(
    client: httpx.Client,
) -> None:
    missing = client.get(f"/tasks/{uuid.uuid4()}")
    malformed = client.get("/tasks/not-a-uuid")

    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    assert malformed.status_code == 422
    assert error_of(malformed)["field"] == "id"


def test_put_changes_only_the_given_fields(client: httpx.Client) -> None:
    task = create_task(client, "before", description="kept", tags=["a"], env={"A": "1"})

    response = client.put(
        f"/tasks/{task['id']}", json={"name": "after", "priority": "critical"}
    )

    assert response.status_code == 200
    changed = response.json()
    assert changed["name"] == "after"
    assert changed["priority"] == "critical"
    assert changed["description"] == "kept"
    assert changed["tags"] == ["a"]
    assert changed["env"] == {"A": "1"}


def test_put_replaces_env_and_tags_when_given(client: httpx.Client) -> None:
    task = create_task(client, "lists", tags=["a", "b"], env={"A": "1"})

    changed = client.put(
        f"/tasks/{task['id']}", json={"tags": [], "env": {"B": "2"}}
    ).json()

    assert changed["tags"] == []
    assert changed["env"] == {"B": "2"}


def test_put_on_a_finished_task_is_409(client: httpx.Client) -> None:
    task = create_task(client, "done", command="true")
    wait_status(client, task["id"], "completed")

    response = client.put(f"/tasks/{task['id']}", json={"name": "late"})

    assert response.status_code == 409
    assert error_of(response)["code"] == "failed_precondition"


def test_delete_removes_the_task(client: httpx.Client) -> None:
    task = create_task(client, "gone")

    deleted = client.delete(f"/tasks/{task['id']}")
    again = client.get(f"/tasks/{task['id']}")

    assert deleted.status_code == 200
    assert deleted.json() == {
        "id": task["id"],
        "deleted": True,
        "deleted_ids": [task["id"]],
    }
    assert again.status_code == 404


def test_deleting_a_running_task_is_409(client: httpx.Client) -> None:
    task = create_task(client, "busy", command="sleep 30")
    wait_status(client, task["id"], "running")

    response = client.delete(f"/tasks/{task['id']}")
    client.post(f"/tasks/{task['id']}/cancel")

    assert response.status_code == 409
    assert error_of(response)["code"] == "failed_precondition"


def test_cancel_ends_a_running_task_with_the_reason(client: httpx.Client) -> None:
    task = create_task(client, "long", command="sleep 30")
    wait_status(client, task["id"], "running")

    response = client.post(
        f"/tasks/{task['id']}/cancel", json={"reason": "no longer needed"}
    )

    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert "no longer needed" in cancelled["status_reason"]
    assert cancelled["exit_code"] is not None


def test_cancel_without_a_body_cancels_a_pending_task(client: httpx.Client) -> None:
    task = create_task(client, "tracked")

    response = client.post(f"/tasks/{task['id']}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancelling_a_finished_task_is_409_naming_the_task(
    client: httpx.Client,
) -> None:
    task = create_task(client, "finished", command="true")
    wait_status(client, task["id"], "completed")

    response = client.post(f"/tasks/{task['id']}/cancel", json={"reason": "late"})

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "failed_precondition"
    assert task["id"] in error["message"]


def test_retry_runs_a_failed_task_again_as_a_new_attempt(
    client: httpx.Client,
) -> None:
    task = create_task(client, "flaky", command="exit 1")
    wait_status(client, task["id"], "failed")

    response = client.post(f"/tasks/{task['id']}/retry")
    again = wait_status(client, task["id"], "failed")

    assert response.status_code == 200
    assert again["attempt"] == 2


def test_retrying_a_pending_task_is_409(client: httpx.Client) -> None:
    task = create_task(client, "waiting")

    response = client.post(f"/tasks/{task['id']}/retry")

    assert response.status_code == 409


def test_history_of_an_unknown_task_is_404(client: httpx.Client) -> None:
    response = client.get(f"/tasks/{uuid.uuid4()}/history")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_development_workflow_puts_a_task_under_the_workflow(
    client: httpx.Client,
) -> None:
    task = create_task(client, "feature", development_workflow=True)

    assert task["development_workflow"] is True
    assert task["development"]["task_id"] == task["id"]
    assert task["development"]["phase"] == "planning"
    assert task["status"] == "pending"


def test_scheduling_options_are_stored_and_shown(client: httpx.Client) -> None:
    dependency = create_task(client, "first")

    task = create_task(
        client,
        "later",
        depends_on=[{"task_id": dependency["id"], "condition": "completion"}],
        max_retries=2,
        retry_delay_seconds=1.5,
        start_after="2030-01-01T01:00:00+01:00",
    )

    assert task["depends_on"] == [
        {"task_id": dependency["id"], "condition": "completion"}
    ]
    assert task["max_retries"] == 2
    assert task["retry_delay_seconds"] == 1.5
    assert task["start_after"] == "2030-01-01T00:00:00.000000Z"
    assert task["workflow_id"] is None
    assert task["retry_at"] is None
