"""One task from submit_task to completed through MCP, following next_call.

Each gate is first refused (the error names it) and then passed. Skipped
while the server does not offer the DevelopmentService yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import grpc
import pytest
from mcp import Client

from tests.mcp.live import call, http_client, refusal
from tests.rest.live import RestServer
from tests.server_process import CHANNEL_OPTIONS
from tq_grpc._gen import development_pb2, development_pb2_grpc

pytestmark = pytest.mark.anyio

PHASES = [
    "planning",
    "implementation",
    "test_creation",
    "testing",
    "ai_review",
    "completed",
]


@pytest.fixture(scope="module")
def dev_server(mcp_server: RestServer) -> Iterator[RestServer]:
    """Return the shared server if it offers the DevelopmentService."""
    with grpc.insecure_channel(mcp_server.target, options=CHANNEL_OPTIONS) as channel:
        stub = development_pb2_grpc.DevelopmentServiceStub(channel)
        request = development_pb2.GetDevelopmentWorkflowRequest(
            task_id=str(uuid.uuid4())
        )
        try:
            stub.GetDevelopmentWorkflow(request, timeout=10)
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.UNIMPLEMENTED:
                pytest.skip("the server does not offer the DevelopmentService yet")
    yield mcp_server


async def _project(client: Client, **limits: Any) -> str:
    project = await call(client, "create_project", name=f"dev-{uuid.uuid4()}", **limits)
    project_id: str = project["id"]
    return project_id


async def _settled(client: Client, task_id: str) -> dict[str, Any]:
    """Follow next_call = get_task until the test run has ended."""
    with anyio.fail_after(15):
        while True:
            answer = await call(client, "get_task", task_id=task_id)
            if answer["next_call"] != "get_task":
                return answer
            await anyio.sleep(0.05)


async def test_a_task_goes_from_submit_to_completed_gate_by_gate(
    dev_server: RestServer,
) -> None:
    async with http_client(dev_server) as client:
        project_id = await _project(client, coverage_threshold=80, required_reviews=2)
        answer = await call(
            client,
            "submit_task",
            name="feature",
            command="echo tests pass",
            project_id=project_id,
        )
        task_id = answer["task"]["id"]
        phases = [answer["task"]["development"]["phase"]]
        statuses = {answer["task"]["status"]}
        refusals: list[str] = []
        reviews = 0
        coverages = iter([50.0, 85.0])
        while answer["next_call"] is not None:
            assert answer["instructions"], answer
            tool = answer["next_call"]
            if answer["unmet_gates"] and tool != "get_task":
                # Advancing now is refused, naming the first unmet gate.
                text = await refusal(
                    client, "advance_workflow_phase", {"task_id": task_id}
                )
                assert text.startswith("failed_precondition: "), text
                assert answer["unmet_gates"][0] in text, (text, answer["unmet_gates"])
                refusals.append(answer["task"]["development"]["phase"])
            if tool == "get_task":
                answer = await _settled(client, task_id)
            elif tool == "set_technical_documentation":
                answer = await call(client, tool, task_id=task_id, doc_path="docs/f.md")
            elif tool == "set_test_coverage":
                answer = await call(
                    client, tool, task_id=task_id, coverage=next(coverages)
                )
            elif tool == "add_ai_review_report":
                reviews += 1
                answer = await call(
                    client,
                    tool,
                    task_id=task_id,
                    model_name=f"model-{reviews}",
                    review_type="code_quality",
                    content="Reads well.",
                    score=0.9,
                    approved=True,
                    suggestions=["none"],
                )
            else:
                assert tool == "advance_workflow_phase", answer
                answer = await call(client, tool, task_id=task_id)
            statuses.add(answer["task"]["status"])
            phase = answer["task"]["development"]["phase"]
            if phase != phases[-1]:
                phases.append(phase)
        final = await call(client, "get_task", task_id=task_id)

    assert phases == PHASES
    assert set(refusals) >= {"planning", "testing", "ai_review"}
    assert reviews == 2
    assert final["task"]["status"] == "completed"
    assert final["next_call"] is None
    development = final["task"]["development"]
    assert development["technical_documentation_path"] == "docs/f.md"
    assert development["test_coverage_percentage"] == 85.0
    assert development["test_run"]["exit_code"] == 0
    assert [r["model_name"] for r in development["reviews"]] == ["model-1", "model-2"]
    assert statuses <= {"pending", "running", "completed"}


async def test_a_rejecting_review_sends_the_task_back_to_implementation(
    dev_server: RestServer,
) -> None:
    async with http_client(dev_server) as client:
        project_id = await _project(client, required_reviews=1)
        task = await call(client, "submit_task", name="r", project_id=project_id)
        task_id = task["task"]["id"]
        await call(
            client, "set_technical_documentation", task_id=task_id, doc_path="d.md"
        )
        for _ in range(3):
            await call(client, "advance_workflow_phase", task_id=task_id)
        await _settled(client, task_id)
        await call(client, "set_test_coverage", task_id=task_id, coverage=95)
        await call(client, "advance_workflow_phase", task_id=task_id)
        rejected = await call(
            client,
            "add_ai_review_report",
            task_id=task_id,
            model_name="strict",
            review_type="security",
            content="Unsafe.",
            score=0.1,
            approved=False,
        )

    development = rejected["task"]["development"]
    assert development["phase"] == "implementation"
    assert development["review_round"] == 2
    assert rejected["next_call"] == "advance_workflow_phase"


async def test_a_failing_test_run_keeps_the_task_in_testing(
    dev_server: RestServer,
) -> None:
    async with http_client(dev_server) as client:
        project_id = await _project(client)
        task = await call(
            client, "submit_task", name="f", command="exit 3", project_id=project_id
        )
        task_id = task["task"]["id"]
        await call(
            client, "set_technical_documentation", task_id=task_id, doc_path="d.md"
        )
        for _ in range(3):
            await call(client, "advance_workflow_phase", task_id=task_id)
        settled = await _settled(client, task_id)
        await call(client, "set_test_coverage", task_id=task_id, coverage=100)
        text = await refusal(client, "advance_workflow_phase", {"task_id": task_id})

    assert settled["task"]["development"]["test_run"]["exit_code"] == 3
    assert settled["task"]["development"]["phase"] == "testing"
    assert "failed_precondition" in text and "3" in text


async def test_a_gate_tool_out_of_its_phase_is_refused(dev_server: RestServer) -> None:
    async with http_client(dev_server) as client:
        task = await call(client, "submit_task", name="early")
        text = await refusal(
            client,
            "set_test_coverage",
            {"task_id": task["task"]["id"], "coverage": 90},
        )

    assert text.startswith("failed_precondition: ")


async def test_next_task_ranks_ready_tasks_by_priority_then_age(
    dev_server: RestServer,
) -> None:
    async with http_client(dev_server) as client:
        project_id = await _project(client)
        empty = await call(client, "next_task", project_id=project_id)
        await call(
            client, "submit_task", name="old-low", project_id=project_id, priority="low"
        )
        first_high = await call(
            client,
            "submit_task",
            name="high-1",
            project_id=project_id,
            priority="high",
        )
        await call(
            client, "submit_task", name="high-2", project_id=project_id, priority="high"
        )
        await call(
            client,
            "submit_task",
            name="not-dev",
            project_id=project_id,
            priority="critical",
            development_workflow=False,
            start_after="2099-01-01T00:00:00Z",
        )
        chosen = await call(client, "next_task", project_id=project_id)

    assert (empty["found"], empty["task"]) == (False, None)
    assert chosen["found"]
    assert chosen["task"]["id"] == first_high["task"]["id"]
    assert "priority" in chosen["rule"] and "oldest" in chosen["rule"]
    assert chosen["next_call"] == "set_technical_documentation"
    assert chosen["unmet_gates"]
