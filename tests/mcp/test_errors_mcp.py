"""Refused arguments and server errors answer isError naming the argument."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from tests.mcp.live import call, http_client, refusal
from tests.rest.live import RestServer
from tq_mcp.errors import CODES, named_field

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"

# (tool, arguments, words the error must hold)
REFUSED: list[tuple[str, dict[str, Any], list[str]]] = [
    ("get_task", {}, ["task_id: is required"]),
    ("get_task", {"task_id": 7}, ["task_id: must be a string, not a number"]),
    ("list_tasks", {"limit": "5"}, ["limit: must be an integer, not a string"]),
    ("list_tasks", {"limit": 5.5}, ["limit: must be an integer"]),
    ("list_tasks", {"limit": True}, ["limit: must be an integer, not a boolean"]),
    ("list_tasks", {"limit": 0}, ["limit: must be greater than or equal to 1"]),
    ("list_tasks", {"limit": 201}, ["limit: must be less than or equal to 200"]),
    ("list_tasks", {"status": "done"}, ["status: must be 'pending'"]),
    ("list_tasks", {"cursor": "garbage"}, ["cursor: is not a token"]),
    ("list_tasks", {"page_size": 5}, ["page_size: is not an argument"]),
    (
        "submit_task",
        {"name": "x", "development_workflow": "false"},
        ["development_workflow: must be true or false, not a string"],
    ),
    (
        "submit_task",
        {"name": "x", "timeout_seconds": 2**40},
        ["timeout_seconds: must be less than or equal to 2147483647"],
    ),
    (
        "submit_task",
        {"name": "x", "retry_delay_seconds": "1.5"},
        ["retry_delay_seconds: must be a number, not a string"],
    ),
    (
        "submit_task",
        {"name": "x", "depends_on": [5]},
        ["depends_on[0]: must be a task id, or an object"],
    ),
    (
        "submit_task",
        {"name": "x", "depends_on": [{"task_id": UNKNOWN_ID, "when": "x"}]},
        ["depends_on[0].when: is not an accepted field"],
    ),
    (
        "submit_task",
        {"name": "x", "depends_on": [UNKNOWN_ID], "development_workflow": False},
        [f"depends_on[0].task_id: task {UNKNOWN_ID} not found"],
    ),
    (
        "submit_task",
        {"name": "x", "start_after": "tomorrow"},
        ["start_after: must be an RFC 3339 time"],
    ),
    (
        "submit_task",
        {"name": "x", "start_after": "2030-01-01T00:00:00"},
        ["start_after: must carry a UTC offset"],
    ),
    ("submit_task", {"name": ""}, ["invalid_argument", "name: must not be empty"]),
    ("get_task", {"task_id": "nope"}, ["task_id: 'nope' is not a UUID"]),
    ("get_task", {"task_id": UNKNOWN_ID}, ["not_found:", UNKNOWN_ID]),
    ("get_project", {"project_id": "nope"}, ["project_id: 'nope' is not a UUID"]),
    ("get_workflow", {"workflow_id": UNKNOWN_ID}, ["not_found:"]),
    ("get_workflow", {"workflow_id": UNKNOWN_ID, "cursor": "x"}, ["cursor:"]),
    ("update_task", {"task_id": UNKNOWN_ID, "status": "done"}, ["cancel_task"]),
    ("get_task_logs", {"task_id": UNKNOWN_ID, "offset": -1}, ["offset: must be"]),
    ("get_task_logs", {"task_id": UNKNOWN_ID, "max_bytes": 65537}, ["max_bytes"]),
    ("set_test_coverage", {"task_id": UNKNOWN_ID, "coverage": "90"}, ["coverage:"]),
    ("set_test_coverage", {"task_id": UNKNOWN_ID, "coverage": 101}, ["coverage:"]),
    (
        "create_workflow",
        {"name": "w", "tasks": [{"key": "a"}, {"key": "b", "depends_on": ["z"]}]},
        ["tasks[1].depends_on[0].key: 'z' is not the key"],
    ),
    (
        "create_workflow",
        {
            "name": "w",
            "tasks": [
                {"key": "a"},
                {"key": "b", "depends_on": [{"task_id": UNKNOWN_ID}, "zz"]},
            ],
        },
        ["tasks[1].depends_on[1].key: 'zz' is not the key"],
    ),
    (
        "create_workflow",
        {"name": "w", "tasks": [{"key": "a", "name": "n" * 300}]},
        ["tasks[0].name: must be at most 256 characters"],
    ),
    ("create_workflow", {"name": "w", "tasks": []}, ["tasks: List should have"]),
    ("no_such_tool", {}, ["Unknown tool"]),
]


@pytest.mark.parametrize(("tool", "arguments", "words"), REFUSED)
async def test_a_refused_call_is_an_error_result_naming_the_argument(
    mcp_server: RestServer, tool: str, arguments: dict[str, Any], words: list[str]
) -> None:
    async with http_client(mcp_server) as client:
        text = await refusal(client, tool, arguments)
        # The server goes on answering on the same session.
        stats = await call(client, "get_stats")

    for word in words:
        assert word in text, text
    assert "Traceback" not in text
    assert stats["slots"] >= 1


async def test_a_gate_or_state_refusal_carries_the_servers_message(
    mcp_server: RestServer,
) -> None:
    async with http_client(mcp_server) as client:
        task = await call(client, "submit_task", name="x", development_workflow=False)
        task_id = task["task"]["id"]
        await call(client, "cancel_task", task_id=task_id)
        again = await refusal(client, "cancel_task", {"task_id": task_id})
        advance = await refusal(client, "advance_workflow_phase", {"task_id": task_id})

    assert again.startswith("failed_precondition: ")
    assert f"Task {task_id} is cancelled" in again
    assert advance.startswith(("failed_precondition: ", "unimplemented: "))


def test_every_grpc_status_has_a_tool_error_code() -> None:
    assert set(CODES) == set(grpc.StatusCode)
    assert all(code == code.lower() for code, _ in CODES.values())


def test_server_field_names_become_argument_names() -> None:
    aliases = {"id": "task_id", "page_token": "cursor"}

    assert named_field("id: bad.", aliases) == ("task_id", "task_id: bad.")
    assert named_field("page_token: bad.", aliases) == ("cursor", "cursor: bad.")
    assert named_field("depends_on[2].task_id: x.", aliases) == (
        "depends_on[2].task_id",
        "depends_on[2].task_id: x.",
    )
    assert named_field("no field here", aliases) == (None, "no field here")
