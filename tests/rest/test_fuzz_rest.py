"""Schemathesis against /openapi.json of a live server: no 5xx, schema kept.

Generated task commands, workflow tasks' included, are blanked (tracking-only
tasks run nothing), and
``follow=true`` is turned off, so fuzzing neither runs arbitrary shell text
nor waits on endless streams; /events, which never ends, is left out. Half of
the generated ids are swapped for ids of fresh objects, so that success
answers are checked against the schema too; half of those fresh tasks are
under the development workflow, so /tasks/{id}/workflow… answer it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.rest.live import RestServer, start_rest_server

MIN_CASES = 500
CASES_PER_OPERATION = 20
OPERATIONS = 34  # every route but /events
# GET /stats, /health, /metrics, /queue; POST /queue/pause, /queue/resume.
WITHOUT_INPUTS = 6
TRUTHY = {"1", "true", "on", "yes", "t", "y"}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """Return a server of its own for fuzzing."""
    server = start_rest_server(tmp_path_factory.mktemp("fuzz"), slots=1)
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def fuzz_client(fuzz_server: RestServer) -> Iterator[httpx.Client]:
    """Return a client that makes the objects fuzzed requests point at."""
    with fuzz_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def operations(fuzz_server: RestServer) -> Any:
    """Load the OpenAPI document the live server serves, without /events."""
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json")
    return schema.exclude(path="/events")


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_no_generated_request_gets_a_5xx_or_an_off_schema_answer(
    operations: Any, fuzz_client: httpx.Client, mode: GenerationMode
) -> None:
    sent: Counter[str] = Counter()

    @settings(
        max_examples=CASES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(data=st.data())
    def fuzz(operation: Any, data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        _defuse(case)
        _point_at_real_objects(case, fuzz_client)
        sent[operation.label] += 1
        case.call_and_validate(
            checks=[not_a_server_error, response_schema_conformance], timeout=30
        )

    fuzzed = [result.ok() for result in operations.get_all_operations()]
    if mode is GenerationMode.NEGATIVE:
        # Only an operation with inputs can be sent something invalid.
        fuzzed = [op for op in fuzzed if any(op.iter_parameters()) or len(op.body)]
    for operation in fuzzed:
        fuzz(operation)

    expected = OPERATIONS
    if mode is GenerationMode.NEGATIVE:
        expected -= WITHOUT_INPUTS
    assert len(sent) == len(fuzzed) == expected, sent
    assert "GET /events" not in sent
    # Two modes of at least half the minimum each: MIN_CASES in all.
    assert sum(sent.values()) >= MIN_CASES // 2, sent


def _defuse(case: Any) -> None:
    body = case.body
    _blank_command(body)
    if isinstance(body, dict) and isinstance(body.get("tasks"), list):
        for task in body["tasks"]:
            _blank_command(task)
    query = case.query
    if isinstance(query, dict) and str(query.get("follow", "")).lower() in TRUTHY:
        query["follow"] = "false"


def _blank_command(spec: Any) -> None:
    if isinstance(spec, dict) and isinstance(spec.get("command"), str):
        spec["command"] = ""


def _point_at_real_objects(case: Any, client: httpx.Client) -> None:
    params = case.path_parameters
    generated = params.get("id") if isinstance(params, dict) else None
    if not isinstance(generated, str) or generated[:1] not in "01234567":
        return
    if case.path.startswith("/tasks/"):
        # Tracking-only (no command): entering testing runs nothing.
        development = generated[:1] in "0123"
        task = {"name": "fuzzed", "development_workflow": development}
        params["id"] = client.post("/tasks", json=task).json()["id"]
    elif case.path.startswith("/projects/"):
        params["id"] = client.post("/projects", json={"name": "fuzzed"}).json()["id"]
    elif case.path.startswith("/workflows/"):
        workflow = {"name": "fuzzed", "tasks": [{"key": "a"}, {"key": "b"}]}
        params["id"] = client.post("/workflows", json=workflow).json()["id"]
