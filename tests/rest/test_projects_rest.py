"""The /projects routes over HTTP against a real server."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.rest.live import RestServer, create_task, error_of, wait_status

PROJECT_FIELDS = {
    "id",
    "name",
    "description",
    "status",
    "parent_id",
    "tags",
    "max_parallel",
    "coverage_threshold",
    "required_reviews",
    "created_at",
    "updated_at",
    "tasks_by_status",
}


def test_create_project_applies_defaults(client: httpx.Client) -> None:
    response = client.post("/projects", json={"name": "My Project"})

    assert response.status_code == 201
    project = response.json()
    assert set(project) == PROJECT_FIELDS
    assert project["status"] == "active"
    assert project["parent_id"] is None
    assert project["coverage_threshold"] == 90
    assert project["required_reviews"] == 3
    assert project["created_at"].endswith("Z")
    assert project["tasks_by_status"]["pending"] == 0


def test_create_project_with_every_field(client: httpx.Client) -> None:
    parent = client.post("/projects", json={"name": "parent"}).json()

    project = client.post(
        "/projects",
        json={
            "name": "child",
            "description": "nested",
            "status": "planning",
            "parent_id": parent["id"],
            "tags": ["x"],
            "max_parallel": 2,
            "coverage_threshold": 75.5,
            "required_reviews": 1,
        },
    ).json()

    assert project["status"] == "planning"
    assert project["parent_id"] == parent["id"]
    assert project["tags"] == ["x"]
    assert (project["max_parallel"], project["coverage_threshold"]) == (2, 75.5)
    assert project["required_reviews"] == 1


def test_get_project_returns_it_and_an_unknown_one_is_404(
    client: httpx.Client,
) -> None:
    project = client.post("/projects", json={"name": "seen"}).json()

    found = client.get(f"/projects/{project['id']}")
    missing = client.get(f"/projects/{uuid.uuid4()}")

    assert found.json() == project
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"


def test_put_project_changes_only_the_given_fields(client: httpx.Client) -> None:
    project = client.post(
        "/projects", json={"name": "before", "description": "kept"}
    ).json()

    response = client.put(
        f"/projects/{project['id']}", json={"status": "on_hold", "max_parallel": 4}
    )

    assert response.status_code == 200
    changed = response.json()
    assert changed["status"] == "on_hold"
    assert changed["max_parallel"] == 4
    assert changed["name"] == "before"
    assert changed["description"] == "kept"


def test_put_project_with_an_empty_parent_makes_it_top_level(
    client: httpx.Client,
) -> None:
    parent = client.post("/projects", json={"name": "parent"}).json()
    child = client.post(
        "/projects", json={"name": "child", "parent_id": parent["id"]}
    ).json()

    changed = client.put(f"/projects/{child['id']}", json={"parent_id": ""}).json()

    assert changed["parent_id"] is None


def test_put_project_out_of_range_is_422_naming_the_field(
    client: httpx.Client,
) -> None:
    project = client.post("/projects", json={"name": "bounded"}).json()

    response = client.put(
        f"/projects/{project['id']}", json={"coverage_threshold": 101}
    )

    assert response.status_code == 422
    assert error_of(response)["field"] == "coverage_threshold"


def test_delete_project_with_tasks_is_409_unless_cascading(
    client: httpx.Client,
) -> None:
    project = client.post("/projects", json={"name": "full"}).json()
    task = create_task(client, "inside", project_id=project["id"])

    refused = client.delete(f"/projects/{project['id']}")
    cascaded = client.delete(f"/projects/{project['id']}", params={"cascade": "true"})

    assert refused.status_code == 409
    assert error_of(refused)["code"] == "failed_precondition"
    assert cascaded.status_code == 200
    assert cascaded.json() == {"id": project["id"], "deleted": True, "deleted_tasks": 1}
    assert client.get(f"/tasks/{task['id']}").status_code == 404
    assert client.get(f"/projects/{project['id']}").status_code == 404


def test_tasks_created_while_a_project_is_deleted_are_409(
    client: httpx.Client, rest_server: RestServer
) -> None:
    project = client.post("/projects", json={"name": "closing"}).json()
    stubborn = create_task(
        client, "stubborn", command="trap '' TERM; sleep 60", project_id=project["id"]
    )
    wait_status(client, stubborn["id"], "running")

    with ThreadPoolExecutor(1) as pool, rest_server.client() as deleter:
        deleting = pool.submit(
            deleter.delete, f"/projects/{project['id']}", params={"cascade": "true"}
        )
        body = {"name": "late", "command": "true", "project_id": project["id"]}
        while (late := client.post("/tasks", json=body)).status_code == 201:
            assert not deleting.done(), "the delete ended before refusing a task"
        deleted = deleting.result(timeout=30)

    assert late.status_code == 409, late.text
    assert error_of(late)["code"] == "failed_precondition"
    assert "is being deleted" in error_of(late)["message"]
    assert deleted.status_code == 200, deleted.text
    assert client.get(f"/projects/{project['id']}").status_code == 404


def test_a_cascade_on_a_project_with_children_is_refused_keeping_its_tasks(
    client: httpx.Client,
) -> None:
    parent = client.post("/projects", json={"name": "parent"}).json()
    client.post("/projects", json={"name": "child", "parent_id": parent["id"]})
    task = create_task(client, "inside", project_id=parent["id"])

    refused = client.delete(f"/projects/{parent['id']}", params={"cascade": "true"})

    assert refused.status_code == 409
    assert "child project" in error_of(refused)["message"]
    assert client.get(f"/tasks/{task['id']}").status_code == 200


def test_delete_empty_project(client: httpx.Client) -> None:
    project = client.post("/projects", json={"name": "empty"}).json()

    response = client.delete(f"/projects/{project['id']}")

    assert response.json() == {"id": project["id"], "deleted": True, "deleted_tasks": 0}


def test_project_tasks_of_an_unknown_project_is_404(client: httpx.Client) -> None:
    response = client.get(f"/projects/{uuid.uuid4()}/tasks")

    assert response.status_code == 404


def test_a_task_in_an_unknown_project_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/tasks", json={"name": "orphan", "project_id": str(uuid.uuid4())}
    )

    assert response.status_code in (404, 422)
    assert error_of(response)["code"] in ("not_found", "invalid_argument")
