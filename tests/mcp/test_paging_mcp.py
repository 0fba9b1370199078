"""Lists page with limit and cursor; every item comes once, in creation order."""

from __future__ import annotations

import uuid

import pytest

from tests.mcp.live import call, http_client
from tests.rest.live import RestServer

pytestmark = pytest.mark.anyio


async def test_list_tasks_pages_through_a_project_with_a_cursor(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        project = await call(client, "create_project", name=f"paged-{uuid.uuid4()}")
        created = [
            (
                await call(
                    client,
                    "submit_task",
                    name=f"t{i}",
                    project_id=project["id"],
                    development_workflow=False,
                )
            )["task"]["id"]
            for i in range(7)
        ]
        seen: list[str] = []
        pages = 0
        cursor = None
        while True:
            arguments = {"project_id": project["id"], "limit": 3}
            if cursor is not None:
                arguments["cursor"] = cursor
            page = await call(client, "list_tasks", **arguments)
            pages += 1
            assert len(page["tasks"]) <= 3
            seen += [task["id"] for task in page["tasks"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

    assert seen == created
    assert pages == 3


async def test_list_tasks_filters_by_status_and_priority(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        project = await call(client, "create_project", name=f"filter-{uuid.uuid4()}")
        for priority in ("low", "critical"):
            await call(
                client,
                "submit_task",
                name=priority,
                project_id=project["id"],
                priority=priority,
                development_workflow=False,
                start_after="2099-01-01T00:00:00Z",
            )
        critical = await call(
            client, "list_tasks", project_id=project["id"], priority="critical"
        )
        running = await call(
            client, "list_tasks", project_id=project["id"], status="running"
        )

    assert [t["name"] for t in critical["tasks"]] == ["critical"]
    assert running["tasks"] == []


async def test_list_projects_pages_with_a_cursor(mcp_server: RestServer) -> None:
    async with http_client(mcp_server) as client:
        names = [f"paged-project-{uuid.uuid4()}" for _ in range(3)]
        for name in names:
            await call(client, "create_project", name=name)
        listed: list[str] = []
        cursor = None
        while True:
            page = await call(
                client,
                "list_projects",
                limit=1,
                **({"cursor": cursor} if cursor else {}),
            )
            assert len(page["projects"]) <= 1
            listed += [project["name"] for project in page["projects"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

    assert listed[-3:] == names


async def test_a_list_defaults_to_fifty_items(mcp_server: RestServer) -> None:
    async with http_client(mcp_server) as client:
        project = await call(client, "create_project", name=f"many-{uuid.uuid4()}")
        for i in range(51):
            await call(
                client,
                "submit_task",
                name=f"t{i}",
                project_id=project["id"],
                development_workflow=False,
                start_after="2099-01-01T00:00:00Z",
            )
        page = await call(client, "list_tasks", project_id=project["id"])

    assert len(page["tasks"]) == 50
    assert page["next_cursor"]
