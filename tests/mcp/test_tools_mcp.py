"""Listing the tools and calling each over streamable HTTP, against a real server."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest

from tests.mcp.live import call, http_client
from tests.rest.live import RestServer
from tq_mcp.arguments import COERCION_RULE

pytestmark = pytest.mark.anyio

SEED_TOOLS = [
    "submit_task",
    "get_task",
    "list_tasks",
    "update_task",
    "cancel_task",
    "delete_task",
    "create_project",
    "get_project",
    "list_projects",
    "advance_workflow_phase",
    "set_technical_documentation",
    "set_test_coverage",
    "add_ai_review_report",
]
MORE_TOOLS = [
    "get_task_logs",
    "retry_task",
    "create_workflow",
    "get_workflow",
    "next_task",
    "get_stats",
]
# tool -> (required arguments, some optional ones)
SCHEMAS: dict[str, tuple[set[str], set[str]]] = {
    "submit_task": (
        {"name"},
        {"command", "project_id", "description", "priority", "depends_on"},
    ),
    "get_task": ({"task_id"}, set()),
    "list_tasks": (set(), {"limit", "status", "project_id", "cursor"}),
    "update_task": ({"task_id"}, {"name", "command", "priority"}),
    "cancel_task": ({"task_id"}, {"reason"}),
    "delete_task": ({"task_id"}, {"cascade"}),
    "create_project": ({"name"}, {"description"}),
    "get_project": ({"project_id"}, set()),
    "list_projects": (set(), {"limit", "cursor"}),
    "advance_workflow_phase": ({"task_id"}, set()),
    "set_technical_documentation": ({"task_id", "doc_path"}, set()),
    "set_test_coverage": ({"task_id", "coverage"}, set()),
    "add_ai_review_report": (
        {"task_id", "model_name", "review_type", "content", "score", "approved"},
        {"suggestions"},
    ),
    "get_task_logs": ({"task_id"}, {"offset", "max_bytes"}),
    "retry_task": ({"task_id"}, set()),
    "create_workflow": ({"name", "tasks"}, {"project_id", "description"}),
    "get_workflow": ({"workflow_id"}, {"limit", "cursor"}),
    "next_task": (set(), {"project_id"}),
    "get_stats": (set(), set()),
}


async def test_the_tools_are_the_seeds_thirteen_then_the_others(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        listed = await client.list_tools()

    assert [tool.name for tool in listed.tools] == SEED_TOOLS + MORE_TOOLS


async def test_every_tool_declares_its_arguments_and_a_structured_result(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    for name, (required, optional) in SCHEMAS.items():
        schema = tools[name].input_schema
        assert schema["type"] == "object", name
        assert set(schema.get("required", [])) == required, name
        assert required | optional <= set(schema["properties"]), name
        output = tools[name].output_schema
        assert output is not None and output["type"] == "object", name
        assert tools[name].description, name


async def test_reading_tools_are_marked_read_only_and_removal_destructive(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    read_only = {n for n, t in tools.items() if t.annotations.read_only_hint}
    destructive = {n for n, t in tools.items() if t.annotations.destructive_hint}
    assert read_only == {
        "get_task",
        "list_tasks",
        "get_task_logs",
        "get_project",
        "list_projects",
        "get_workflow",
        "next_task",
        "get_stats",
    }
    assert destructive == {"cancel_task", "delete_task"}


async def test_limits_are_bounded_and_typed_tools_state_the_coercion_rule(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    limit = tools["list_tasks"].input_schema["properties"]["limit"]
    assert (limit["type"], limit["default"], limit["maximum"]) == ("integer", 50, 200)
    logs = tools["get_task_logs"].input_schema["properties"]["max_bytes"]
    assert logs["maximum"] == 64 * 1024
    assert COERCION_RULE in (tools["list_tasks"].description or "")
    assert COERCION_RULE in (tools["set_test_coverage"].description or "")
    assert COERCION_RULE not in (tools["get_task"].description or "")
    priority = tools["submit_task"].input_schema["properties"]["priority"]
    assert priority["enum"] == ["low", "normal", "high", "critical"]
    dev = tools["submit_task"].input_schema["properties"]["development_workflow"]
    assert dev == {**dev, "type": "boolean", "default": True}


async def test_a_task_is_submitted_read_listed_updated_and_cancelled(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        project = await call(client, "create_project", name=f"p-{uuid.uuid4()}")
        created = await call(
            client,
            "submit_task",
            name="later",
            command="true",
            project_id=project["id"],
            priority="high",
            development_workflow=False,
            start_after="2099-01-01T00:00:00Z",
            tags=["a"],
        )
        task_id = created["task"]["id"]
        read = await call(client, "get_task", task_id=task_id)
        listed = await call(client, "list_tasks", project_id=project["id"])
        updated = await call(
            client, "update_task", task_id=task_id, name="renamed", priority="low"
        )
        cancelled = await call(
            client, "cancel_task", task_id=task_id, reason="not needed"
        )

    assert created["task"]["status"] == "pending"
    assert created["task"]["start_after"] == "2099-01-01T00:00:00.000000Z"
    assert (created["next_call"], created["task"]["development"]) == (None, None)
    assert read["task"] == {**created["task"], "updated_at": read["task"]["updated_at"]}
    assert [t["id"] for t in listed["tasks"]] == [task_id]
    assert listed["next_cursor"] is None
    assert (updated["task"]["name"], updated["task"]["priority"]) == ("renamed", "low")
    assert cancelled["task"]["status"] == "cancelled"
    assert cancelled["task"]["status_reason"] == "not needed"


async def test_a_task_runs_its_log_is_read_and_it_is_retried_and_deleted(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        created = await call(
            client,
            "submit_task",
            name="echo",
            command="printf 'h\\303\\251llo'",
            development_workflow=False,
        )
        task_id = created["task"]["id"]

        async def finished() -> dict[str, Any] | None:
            answer = await call(client, "get_task", task_id=task_id)
            return answer if answer["task"]["status"] == "completed" else None

        done = await _poll(finished)
        whole = await call(client, "get_task_logs", task_id=task_id)
        cut = await call(client, "get_task_logs", task_id=task_id, max_bytes=2)
        rest = await call(
            client, "get_task_logs", task_id=task_id, offset=cut["next_offset"]
        )
        retried = await call(client, "retry_task", task_id=task_id)
        await _poll(finished)
        deleted = await call(client, "delete_task", task_id=task_id)

    assert done["task"]["exit_code"] == 0
    assert (whole["text"], whole["eof"], whole["size_bytes"]) == ("héllo", True, 6)
    assert "UTF-8" in whole["encoding"]
    # "h" and the first byte of "é": the cut character waits for the next read.
    assert (cut["text"], cut["next_offset"], cut["eof"]) == ("h", 1, False)
    assert (rest["text"], rest["next_offset"]) == ("éllo", 6)
    assert retried["task"]["status_reason"] == "retry requested"
    assert deleted == {"task_id": task_id, "deleted_ids": [task_id]}


async def test_a_dependency_blocks_delete_unless_it_cascades(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        first = await call(
            client,
            "submit_task",
            name="first",
            development_workflow=False,
            start_after="2099-01-01T00:00:00Z",
        )
        first_id = first["task"]["id"]
        second = await call(
            client,
            "submit_task",
            name="second",
            development_workflow=False,
            depends_on=[{"task_id": first_id, "condition": "completion"}],
        )
        refused = await client.call_tool("delete_task", {"task_id": first_id})
        deleted = await call(client, "delete_task", task_id=first_id, cascade=True)

    assert second["task"]["depends_on"] == [
        {"task_id": first_id, "condition": "completion"}
    ]
    assert second["task"]["status"] == "waiting_for_dependencies"
    assert refused.is_error
    assert deleted["deleted_ids"] == [first_id, second["task"]["id"]]


async def test_projects_are_created_read_and_listed(mcp_server: RestServer) -> None:
    name = f"project-{uuid.uuid4()}"
    async with http_client(mcp_server) as client:
        created = await call(
            client,
            "create_project",
            name=name,
            description="d",
            coverage_threshold=75,
            required_reviews=2,
            max_parallel=3,
        )
        read = await call(client, "get_project", project_id=created["id"])
        listed = await call(client, "list_projects", limit=200)

    assert read == created
    assert (created["coverage_threshold"], created["required_reviews"]) == (75.0, 2)
    assert created["id"] in [p["id"] for p in listed["projects"]]


async def test_a_workflow_is_created_from_the_rest_document_and_read_by_pages(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        outside = await call(
            client, "submit_task", name="outside", development_workflow=False
        )
        created = await call(
            client,
            "create_workflow",
            name="build",
            tasks=[
                {"key": "a", "command": "true"},
                {"key": "b", "command": "true", "depends_on": ["a"]},
                {
                    "key": "c",
                    "depends_on": [
                        {"key": "a", "condition": "completion"},
                        {"task_id": outside["task"]["id"]},
                    ],
                },
            ],
        )
        first = await call(client, "get_workflow", workflow_id=created["id"], limit=2)
        second = await call(
            client,
            "get_workflow",
            workflow_id=created["id"],
            limit=2,
            cursor=first["next_cursor"],
        )

    assert created["progress"]["total"] == 3
    assert [t["key"] for t in created["tasks"]] == ["a", "b", "c"]
    assert [t["key"] for t in first["tasks"]] == ["a", "b"]
    assert first["tasks"][1]["depends_on"] == [
        {
            "key": "a",
            "task_id": first["tasks"][0]["task"]["id"],
            "condition": "success",
        }
    ]
    assert [t["key"] for t in second["tasks"]] == ["c"]
    assert second["next_cursor"] is None
    edges = second["tasks"][0]["depends_on"]
    assert [(e["key"], e["condition"]) for e in edges] == [
        ("a", "completion"),
        (None, "success"),
    ]
    assert edges[1]["task_id"] == outside["task"]["id"]


async def test_stats_count_the_tasks(mcp_server: RestServer) -> None:
    async with http_client(mcp_server) as client:
        before = await call(client, "get_stats")
        await call(client, "submit_task", name="counted", development_workflow=False)
        after = await call(client, "get_stats")

    assert after["total_tasks"] == before["total_tasks"] + 1
    assert after["slots"] == mcp_server.slots
    assert set(after["tasks_by_status"]) >= {"pending", "completed"}


async def _poll(probe: Any, timeout: float = 10.0) -> Any:
    with anyio.fail_after(timeout):
        while True:
            found = await probe()
            if found:
                return found
            await anyio.sleep(0.05)
