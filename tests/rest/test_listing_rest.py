"""GET /tasks and /projects: filters, arrays and cursor headers."""

from __future__ import annotations

import re

import httpx

from tests.rest.live import create_task, error_of

LINK = re.compile(r'^<(/[^>]+)>; rel="next"$')


def _project(client: httpx.Client) -> str:
    project_id: str = client.post("/projects", json={"name": "listed"}).json()["id"]
    return project_id


def test_pages_are_arrays_and_the_next_cursor_travels_in_headers(
    client: httpx.Client,
) -> None:
    project_id = _project(client)
    ids = [create_task(client, f"t{i}", project_id=project_id)["id"] for i in range(5)]

    seen: list[str] = []
    pages = 0
    url = f"/tasks?project={project_id}&limit=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        assert isinstance(response.json(), list)
        seen += [task["id"] for task in response.json()]
        pages += 1
        link = response.headers.get("link")
        if link is None:
            assert "x-next-cursor" not in response.headers
            break
        match = LINK.match(link)
        assert match, link
        assert f"cursor={response.headers['x-next-cursor']}" in match.group(1)
        url = match.group(1)

    assert seen == ids
    assert pages == 3


def test_the_cursor_parameter_continues_where_the_page_ended(
    client: httpx.Client,
) -> None:
    project_id = _project(client)
    ids = [create_task(client, f"c{i}", project_id=project_id)["id"] for i in range(3)]

    first = client.get("/tasks", params={"project": project_id, "limit": 1})
    rest = client.get(
        "/tasks",
        params={"project": project_id, "cursor": first.headers["x-next-cursor"]},
    )

    assert [t["id"] for t in first.json()] == ids[:1]
    assert [t["id"] for t in rest.json()] == ids[1:]


def test_status_and_priority_filters_narrow_the_list(client: httpx.Client) -> None:
    project_id = _project(client)
    high = create_task(client, "high", project_id=project_id, priority="high")
    low = create_task(client, "low", project_id=project_id, priority="low")
    client.post(f"/tasks/{low['id']}/cancel")

    by_priority = client.get(
        "/tasks", params={"project": project_id, "priority": "high"}
    ).json()
    by_status = client.get(
        "/tasks", params={"project": project_id, "status": "cancelled"}
    ).json()
    everywhere = client.get("/tasks", params={"status": "cancelled", "limit": 1000})

    assert [t["id"] for t in by_priority] == [high["id"]]
    assert [t["id"] for t in by_status] == [low["id"]]
    assert low["id"] in {t["id"] for t in everywhere.json()}
    assert all(t["status"] == "cancelled" for t in everywhere.json())


def test_bad_filters_are_422_naming_the_parameter(client: httpx.Client) -> None:
    cases = {
        "status": {"status": "sleeping"},
        "priority": {"priority": "urgent"},
        "project": {"project": "12"},
        "limit": {"limit": "1001"},
        "cursor": {"cursor": "not-a-cursor"},
    }

    for field, params in cases.items():
        response = client.get("/tasks", params=params)

        assert response.status_code == 422, field
        assert error_of(response)["field"] == field


def test_limit_defaults_to_50(client: httpx.Client) -> None:
    project_id = _project(client)
    for i in range(51):
        create_task(client, f"n{i}", project_id=project_id)

    response = client.get("/tasks", params={"project": project_id})

    assert len(response.json()) == 50
    assert "x-next-cursor" in response.headers


def test_project_tasks_lists_one_projects_tasks_with_a_status_filter(
    client: httpx.Client,
) -> None:
    project_id = _project(client)
    kept = create_task(client, "kept", project_id=project_id)
    gone = create_task(client, "gone", project_id=project_id)
    client.post(f"/tasks/{gone['id']}/cancel")
    create_task(client, "elsewhere")

    listed = client.get(f"/projects/{project_id}/tasks")
    pending = client.get(f"/projects/{project_id}/tasks", params={"status": "pending"})
    paged = client.get(f"/projects/{project_id}/tasks", params={"limit": 1})

    assert [t["id"] for t in listed.json()] == [kept["id"], gone["id"]]
    assert [t["id"] for t in pending.json()] == [kept["id"]]
    assert paged.headers["link"].startswith(f"</projects/{project_id}/tasks?")


def test_projects_are_listed_in_pages(client: httpx.Client) -> None:
    created = [_project(client) for _ in range(3)]

    everything: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/projects", params=params)
        everything += [p["id"] for p in response.json()]
        cursor = response.headers.get("x-next-cursor")
        if not cursor:
            break

    assert everything[-3:] == created
