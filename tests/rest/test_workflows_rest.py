"""The /workflows routes over HTTP against a real server."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.rest.live import (
    create_task,
    create_workflow,
    error_of,
    moment,
    tasks_by_key,
    wait_status,
    wait_workflow,
)

PROGRESS = {
    "total",
    "pending",
    "waiting_for_dependencies",
    "running",
    "completed",
    "failed",
    "cancelled",
}
SUMMARY_FIELDS = {
    "id",
    "name",
    "description",
    "project_id",
    "status",
    "progress",
    "created_at",
}


def _project(client: httpx.Client) -> str:
    response = client.post("/projects", json={"name": "flows"})
    assert response.status_code == 201, response.text
    project_id: str = response.json()["id"]
    return project_id


def _edges(workflow: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (e["source_key"], e["target_key"], e["condition"]) for e in workflow["edges"]
    }


def test_a_workflow_runs_in_dependency_order_and_completes(
    client: httpx.Client,
) -> None:
    body = {
        "name": "build",
        "description": "fetch, build and test, then package",
        "tasks": [
            {
                "key": "fetch",
                "name": "Fetch",
                "command": "sleep 0.2",
                "priority": "high",
            },
            {"key": "build", "command": "sleep 0.2", "depends_on": ["fetch"]},
            {"key": "test", "command": "sleep 0.2", "depends_on": ["fetch"]},
            {"key": "package", "command": "true", "depends_on": ["build", "test"]},
            {
                "key": "notify",
                "command": "true",
                "depends_on": [{"key": "package", "condition": "failure"}],
            },
        ],
    }

    created = create_workflow(client, body)
    done = wait_workflow(client, created["id"], "completed", "failed", "cancelled")

    assert set(created) == SUMMARY_FIELDS | {"tasks", "edges"}
    assert created["name"] == "build"
    assert created["status"] in ("pending", "running")
    assert set(created["progress"]) == PROGRESS
    assert created["progress"]["total"] == 5
    assert [item["key"] for item in created["tasks"]] == [
        "fetch",
        "build",
        "test",
        "package",
        "notify",
    ]
    first = tasks_by_key(created)
    assert first["fetch"]["name"] == "Fetch"
    assert first["build"]["name"] == "build"  # the key, when no name is given
    assert first["fetch"]["priority"] == "high"
    assert {t["workflow_id"] for t in first.values()} == {created["id"]}
    assert _edges(created) == {
        ("fetch", "build", "success"),
        ("fetch", "test", "success"),
        ("build", "package", "success"),
        ("test", "package", "success"),
        ("package", "notify", "failure"),
    }
    ids = {key: task["id"] for key, task in first.items()}
    assert {(e["source_task_id"], e["target_task_id"]) for e in created["edges"]} == {
        (ids[s], ids[t]) for s, t, _ in _edges(created)
    }

    assert done["status"] == "completed", done
    tasks = tasks_by_key(done)
    for source, target, condition in _edges(done):
        if condition == "success":
            assert moment(tasks[target]["started_at"]) >= moment(
                tasks[source]["finished_at"]
            ), (source, target)
    # The on-failure branch never ran, and does not make the workflow fail.
    assert tasks["notify"]["status"] == "cancelled"
    assert ids["package"] in tasks["notify"]["status_reason"]
    assert done["progress"] == {
        "total": 5,
        "pending": 0,
        "waiting_for_dependencies": 0,
        "running": 0,
        "completed": 4,
        "failed": 0,
        "cancelled": 1,
    }


def test_a_failed_task_cancels_its_dependents_and_runs_the_failure_branch(
    client: httpx.Client,
) -> None:
    body = {
        "name": "broken",
        "tasks": [
            {"key": "compile", "command": "exit 3"},
            {"key": "link", "command": "true", "depends_on": ["compile"]},
            {"key": "ship", "command": "true", "depends_on": ["link"]},
            {
                "key": "notify",
                "command": "true",
                "depends_on": [{"key": "compile", "condition": "failure"}],
            },
        ],
    }

    created = create_workflow(client, body)
    done = wait_workflow(client, created["id"], "failed", "completed", "cancelled")

    tasks = tasks_by_key(done)
    assert done["status"] == "failed"
    assert tasks["compile"]["status"] == "failed"
    assert tasks["compile"]["exit_code"] == 3
    assert tasks["link"]["status"] == "cancelled"
    assert tasks["compile"]["id"] in tasks["link"]["status_reason"]
    assert tasks["ship"]["status"] == "cancelled"
    assert tasks["link"]["id"] in tasks["ship"]["status_reason"]
    assert tasks["link"]["started_at"] is None
    assert tasks["notify"]["status"] == "completed"
    assert done["progress"]["failed"] == 1
    assert done["progress"]["completed"] == 1


def test_a_workflow_task_may_wait_for_a_task_outside_the_workflow(
    client: httpx.Client,
) -> None:
    outside = create_task(client, "outside", command="sleep 1")
    body = {
        "name": "after outside",
        "tasks": [
            {"key": "a", "command": "true"},
            {
                "key": "c",
                "command": "true",
                "depends_on": [
                    "a",
                    {"task_id": outside["id"], "condition": "completion"},
                ],
            },
        ],
    }

    created = create_workflow(client, body)
    waiting = tasks_by_key(client.get(f"/workflows/{created['id']}").json())["c"]
    done = wait_workflow(client, created["id"], "completed", "failed", "cancelled")
    ended = wait_status(client, outside["id"], "completed")

    assert waiting["status"] == "waiting_for_dependencies"
    assert waiting["blocked_by"], waiting
    assert done["status"] == "completed", done
    c = tasks_by_key(done)["c"]
    assert {"task_id": outside["id"], "condition": "completion"} in c["depends_on"]
    # Edges join tasks of the workflow; the outside one is in depends_on.
    assert _edges(done) == {("a", "c", "success")}
    assert moment(c["started_at"]) >= moment(ended["finished_at"])
    assert client.get(f"/tasks/{outside['id']}").json()["workflow_id"] is None


def test_a_cycle_is_422_naming_the_cycle(client: httpx.Client) -> None:
    before = client.get("/stats").json()["total_tasks"]
    body = {
        "name": "loop",
        "tasks": [
            {"key": "start", "command": "true"},
            {"key": "a", "command": "true", "depends_on": ["start", "b"]},
            {"key": "b", "command": "true", "depends_on": ["a"]},
        ],
    }

    response = client.post("/workflows", json=body)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "invalid_argument"
    assert re.search(r"\ba -> b -> a\b|\bb -> a -> b\b", error["message"]), error
    assert client.get("/stats").json()["total_tasks"] == before


def test_an_unknown_key_is_422_naming_the_entry_the_client_sent(
    client: httpx.Client,
) -> None:
    outside = create_task(client, "outside")
    body = {
        "name": "typo",
        "tasks": [
            {"key": "a", "command": "true"},
            {
                "key": "b",
                "command": "true",
                "depends_on": [{"task_id": outside["id"]}, "a", "nope"],
            },
        ],
    }

    response = client.post("/workflows", json=body)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["field"] == "tasks[1].depends_on[2].key", error
    assert error["message"].startswith("tasks[1].depends_on[2].key: ")
    assert "nope" in error["message"]


def test_a_repeated_key_is_422_naming_the_second(client: httpx.Client) -> None:
    body = {"name": "twice", "tasks": [{"key": "a"}, {"key": "b"}, {"key": "a"}]}

    response = client.post("/workflows", json=body)

    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == "tasks[2].key"


def test_an_unknown_outside_task_is_refused_naming_the_entry(
    client: httpx.Client,
) -> None:
    missing = str(uuid.uuid4())
    body = {
        "name": "dangling",
        "tasks": [
            {"key": "a", "command": "true"},
            {"key": "b", "depends_on": ["a", {"task_id": missing}]},
        ],
    }

    response = client.post("/workflows", json=body)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert missing in error["message"]
    assert error["field"] == "tasks[1].depends_on[1].task_id", error


def test_workflows_are_listed_in_pages_without_tasks_and_by_project(
    client: httpx.Client,
) -> None:
    project_id = _project(client)
    ids = [
        create_workflow(
            client,
            {
                "name": f"w{i}",
                "project_id": project_id,
                "tasks": [{"key": "only"}],
            },
        )["id"]
        for i in range(3)
    ]

    first = client.get("/workflows", params={"project": project_id, "limit": 2})
    rest = client.get(
        "/workflows",
        params={"project": project_id, "cursor": first.headers["x-next-cursor"]},
    )
    everything = client.get("/workflows", params={"limit": 1000}).json()

    assert first.status_code == 200
    assert [w["id"] for w in first.json()] == ids[:2]
    assert first.headers["link"].startswith("</workflows?")
    assert [w["id"] for w in rest.json()] == ids[2:]
    assert "x-next-cursor" not in rest.headers
    for item in first.json() + rest.json():
        assert set(item) == SUMMARY_FIELDS
        assert item["project_id"] == project_id
    assert set(ids) <= {w["id"] for w in everything}
    # A task of the workflow belongs to the workflow's project.
    detail = client.get(f"/workflows/{ids[0]}").json()
    assert tasks_by_key(detail)["only"]["project_id"] == project_id


def test_cancel_ends_every_task_that_has_not_ended(client: httpx.Client) -> None:
    body = {
        "name": "long",
        "tasks": [
            {"key": "slow", "command": "sleep 30"},
            {"key": "after", "command": "true", "depends_on": ["slow"]},
        ],
    }
    created = create_workflow(client, body)
    slow = tasks_by_key(created)["slow"]
    wait_status(client, slow["id"], "running")

    response = client.post(
        f"/workflows/{created['id']}/cancel", json={"reason": "changed my mind"}
    )

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    tasks = tasks_by_key(cancelled)
    assert {t["status"] for t in tasks.values()} == {"cancelled"}
    assert "changed my mind" in tasks["slow"]["status_reason"]
    assert tasks["slow"]["exit_code"] is not None
    assert cancelled["progress"]["cancelled"] == 2


def test_retry_runs_the_failed_task_and_its_dependents_again(
    client: httpx.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "tried"
    fails_once = f"test -e {marker} || {{ touch {marker}; exit 1; }}"
    body = {
        "name": "flaky",
        "tasks": [
            {"key": "flaky", "command": fails_once},
            {"key": "after", "command": "true", "depends_on": ["flaky"]},
        ],
    }
    created = create_workflow(client, body)
    failed = wait_workflow(client, created["id"], "failed", "completed")

    response = client.post(f"/workflows/{created['id']}/retry")
    done = wait_workflow(client, created["id"], "completed", "failed", "cancelled")

    assert failed["status"] == "failed"
    assert tasks_by_key(failed)["after"]["status"] == "cancelled"
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("pending", "running", "completed")
    assert done["status"] == "completed", done
    tasks = tasks_by_key(done)
    assert tasks["flaky"]["attempt"] == 2
    assert tasks["after"]["status"] == "completed"


def test_unknown_workflows_are_404(client: httpx.Client) -> None:
    missing = uuid.uuid4()

    answers = [
        client.get(f"/workflows/{missing}"),
        client.post(f"/workflows/{missing}/cancel"),
        client.post(f"/workflows/{missing}/retry"),
    ]

    for response in answers:
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "not_found"


def test_a_workflow_with_forty_thousand_edges_is_served_whole(
    client: httpx.Client,
) -> None:
    tasks: list[dict[str, Any]] = []
    for layer in range(5):
        for index in range(100):
            task: dict[str, Any] = {"key": f"{layer}-{index}"}
            if layer:
                task["depends_on"] = [f"{layer - 1}-{j}" for j in range(100)]
            else:
                task["start_after"] = "2099-01-01T00:00:00Z"
            tasks.append(task)

    created = client.post("/workflows", json={"name": "wide", "tasks": tasks})

    assert created.status_code == 201, created.text[:500]
    assert len(created.json()["edges"]) == 40_000
    workflow_id = created.json()["id"]
    read = client.get(f"/workflows/{workflow_id}")
    assert read.status_code == 200
    assert len(read.json()["tasks"]) == 500
    cancelled = client.post(f"/workflows/{workflow_id}/cancel", json={})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_a_long_cycle_is_named_briefly(client: httpx.Client) -> None:
    ring = [{"key": f"k{i}", "depends_on": [f"k{(i + 1) % 5000}"]} for i in range(5000)]

    answer = client.post("/workflows", json={"name": "ring", "tasks": ring})

    assert answer.status_code == 422
    message = answer.json()["error"]["message"]
    assert "depends_on forms a cycle of 5000 task(s)" in message
    assert len(message) < 1000


def test_view_basic_outlines_the_tasks_and_gives_edges_by_key(
    client: httpx.Client,
) -> None:
    body = {
        "name": "outlined",
        "tasks": [
            {"key": "a", "command": "exit 4", "env": {"K": "v"}},
            {"key": "b", "command": "true", "depends_on": ["a"]},
        ],
    }
    workflow = create_workflow(client, body)
    wait_workflow(client, workflow["id"], "failed")
    full = client.get(f"/workflows/{workflow['id']}").json()

    response = client.get(f"/workflows/{workflow['id']}", params={"view": "basic"})

    assert response.status_code == 200, response.text
    basic = response.json()
    assert {k: basic[k] for k in SUMMARY_FIELDS} == {k: full[k] for k in SUMMARY_FIELDS}
    assert basic["edges"] == [
        {"source_key": "a", "target_key": "b", "condition": "success"}
    ]
    outline_fields = {
        "id",
        "name",
        "project_id",
        "status",
        "status_reason",
        "attempt",
        "exit_code",
        "started_at",
        "finished_at",
        "blocked_by",
    }
    for outlined, task in zip(basic["tasks"], full["tasks"], strict=True):
        assert outlined["key"] == task["key"]
        assert set(outlined["task"]) == outline_fields
        assert outlined["task"] == {f: task["task"][f] for f in outline_fields}
    assert basic["tasks"][0]["task"]["exit_code"] == 4
    assert basic["tasks"][1]["task"]["status"] == "cancelled"


def test_an_unknown_view_is_422_naming_it(client: httpx.Client) -> None:
    workflow = create_workflow(client, {"name": "v", "tasks": [{"key": "a"}]})

    response = client.get(f"/workflows/{workflow['id']}", params={"view": "tiny"})

    assert response.status_code == 422
    assert error_of(response)["field"] == "view"
