"""The /tasks/{id}/workflow routes (the development workflow) over HTTP.

The live tests walk real tasks through every phase against a real server;
the mapping tests check the JSON of a DevelopmentWorkflow without one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.rest.live import create_task, error_of, moment, wait_until
from tq_grpc._gen import development_pb2, tasks_pb2
from tq_rest import convert, schemas

D = development_pb2
WORKFLOW_FIELDS = set(schemas.DevelopmentWorkflow.model_fields)
ROUTES = [
    ("GET", "/tasks/{id}/workflow"),
    ("POST", "/tasks/{id}/workflow/advance"),
    ("POST", "/tasks/{id}/workflow/documentation"),
    ("POST", "/tasks/{id}/workflow/coverage"),
    ("POST", "/tasks/{id}/workflow/reviews"),
    ("POST", "/tasks/{id}/workflow/fail"),
    ("POST", "/tasks/{id}/workflow/reopen"),
]


# -- helpers --------------------------------------------------------------


def _project(client: httpx.Client, **fields: Any) -> str:
    response = client.post("/projects", json={"name": "dev", **fields})
    assert response.status_code == 201, response.text
    project_id: str = response.json()["id"]
    return project_id


def _dev_task(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    return create_task(client, "feature", development_workflow=True, **fields)


def _workflow(client: httpx.Client, task_id: str) -> dict[str, Any]:
    response = client.get(f"/tasks/{task_id}/workflow")
    assert response.status_code == 200, response.text
    return _checked(response.json())


def _checked(workflow: dict[str, Any]) -> dict[str, Any]:
    """Return a workflow document after checking it against the schema."""
    assert set(workflow) == WORKFLOW_FIELDS, workflow
    schemas.DevelopmentWorkflow.model_validate(workflow)
    return workflow


def _call(
    client: httpx.Client,
    task_id: str,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> dict[str, Any]:
    """POST /tasks/{id}/workflow/{action}; return the workflow it answered."""
    response = client.post(f"/tasks/{task_id}/workflow/{action}", json=body)
    assert response.status_code == status, response.text
    return _checked(response.json())


def _refused(
    client: httpx.Client,
    task_id: str,
    action: str,
    body: dict[str, Any] | None = None,
) -> str:
    """POST an action the state forbids; return the 409's message."""
    response = client.post(f"/tasks/{task_id}/workflow/{action}", json=body)
    assert response.status_code == 409, response.text
    error = error_of(response)
    assert error["code"] == "failed_precondition", error
    message: str = error["message"]
    return message


def _advance(client: httpx.Client, task_id: str, phase: str) -> dict[str, Any]:
    """Advance once; the workflow must then be in phase."""
    workflow = _call(client, task_id, "advance")
    assert workflow["phase"] == phase, workflow
    return workflow


def _review(model: str, *, approved: bool = True, **fields: Any) -> dict[str, Any]:
    return {
        "model_name": model,
        "review_type": "code_quality",
        "content": f"{model} read the change.",
        "score": 0.9 if approved else 0.2,
        "approved": approved,
        "suggestions": [] if approved else ["split the function"],
        **fields,
    }


def _test_run_ended(client: httpx.Client, task_id: str) -> dict[str, Any]:
    """Follow next_call "get_task" until the test run has ended."""

    def probe() -> dict[str, Any] | None:
        workflow = _workflow(client, task_id)
        run = workflow["test_run"]
        if workflow["next_call"] == "get_task" or run is None or run["running"]:
            return None
        return workflow

    return wait_until(probe, what=f"the test run of {task_id}")


def _to_testing(client: httpx.Client, task_id: str) -> dict[str, Any]:
    """From implementation to testing, then wait for the test run to end."""
    _advance(client, task_id, "test_creation")
    _advance(client, task_id, "testing")
    return _test_run_ended(client, task_id)


# -- the whole walk -------------------------------------------------------


def test_a_task_walks_every_phase_and_each_gate_is_refused_until_met(
    client: httpx.Client,
) -> None:
    project = _project(client, coverage_threshold=80, required_reviews=2)
    task = _dev_task(client, command="true", project_id=project)
    task_id = task["id"]

    # Created: planning, never dispatched on its own.
    assert task["development"] is not None
    assert task["development"]["phase"] == "planning"
    workflow = _workflow(client, task_id)
    assert workflow["task_id"] == task_id
    assert workflow["phase"] == "planning"
    assert (workflow["coverage_threshold"], workflow["required_reviews"]) == (80, 2)
    assert workflow["test_run"] is None
    assert workflow["test_coverage_percentage"] is None
    assert workflow["next_call"] == "set_technical_documentation"
    assert any("documentation" in gate for gate in workflow["unmet_gates"])
    assert workflow["instructions"]
    assert moment(workflow["started_at"]) <= datetime.now(UTC)
    assert workflow["completed_at"] is None

    # planning: refused without documentation; coverage and reviews are
    # for later phases.
    assert "technical documentation" in _refused(client, task_id, "advance")
    assert "testing" in _refused(client, task_id, "coverage", {"coverage": 95})
    assert "ai_review" in _refused(client, task_id, "reviews", _review("a"))

    workflow = _call(client, task_id, "documentation", {"doc_path": "docs/design.md"})
    assert workflow["technical_documentation_path"] == "docs/design.md"
    assert workflow["unmet_gates"] == []
    assert workflow["next_call"] == "advance_workflow_phase"
    _advance(client, task_id, "implementation")
    assert client.get(f"/tasks/{task_id}").json()["attempt"] == 0

    # testing: entering it runs the command; coverage is then required, at
    # or above the project's threshold.
    workflow = _to_testing(client, task_id)
    assert workflow["test_run"]["exit_code"] == 0
    assert workflow["test_run"]["attempt"] == 1
    assert moment(workflow["test_run"]["finished_at"]) >= moment(
        workflow["test_run"]["started_at"]
    )
    assert workflow["next_call"] == "set_test_coverage"
    assert "coverage" in _refused(client, task_id, "advance")
    low = _call(client, task_id, "coverage", {"coverage": 50})
    assert low["test_coverage_percentage"] == 50
    message = _refused(client, task_id, "advance")
    assert "50%" in message and "80%" in message, message
    workflow = _call(client, task_id, "coverage", {"coverage_percentage": 85.5})
    assert workflow["test_coverage_percentage"] == 85.5
    assert workflow["unmet_gates"] == []
    _advance(client, task_id, "ai_review")
    assert client.get(f"/tasks/{task_id}").json()["status"] == "pending"

    # ai_review: approvals must come from enough distinct models.
    workflow = _call(client, task_id, "reviews", _review("model-a"), status=201)
    assert workflow["next_call"] == "add_ai_review_report"
    assert "1 of 2" in _refused(client, task_id, "advance")
    _call(client, task_id, "reviews", _review("model-a"), status=201)
    assert "1 of 2" in _refused(client, task_id, "advance")

    # A rejection: back to implementation in a new round, coverage and run
    # cleared.
    workflow = _call(
        client, task_id, "reviews", _review("model-b", approved=False), status=201
    )
    assert workflow["phase"] == "implementation"
    assert workflow["review_round"] == 2
    assert workflow["test_coverage_percentage"] is None
    assert workflow["test_run"] is None
    rejection = workflow["ai_review_reports"][-1]
    assert rejection["model_name"] == "model-b"
    assert (rejection["approved"], rejection["round"]) == (False, 1)
    assert rejection["suggestions"] == ["split the function"]
    assert rejection["review_type"] == "code_quality"
    assert rejection["created_at"] is not None

    # Round 2: the earlier approvals no longer count.
    workflow = _to_testing(client, task_id)
    assert workflow["test_run"]["attempt"] == 2
    _call(client, task_id, "coverage", {"coverage": 80})
    _advance(client, task_id, "ai_review")
    _call(client, task_id, "reviews", _review("model-a"), status=201)
    assert "round 2" in _refused(client, task_id, "advance")
    workflow = _call(
        client,
        task_id,
        "reviews",
        _review("model-b", review_type="security", score=1),
        status=201,
    )
    assert workflow["unmet_gates"] == []
    assert [r["round"] for r in workflow["ai_review_reports"]] == [1, 1, 1, 2, 2]

    done = _advance(client, task_id, "completed")
    assert done["completed_at"] is not None
    assert done["next_call"] == ""
    finished = client.get(f"/tasks/{task_id}").json()
    assert finished["status"] == "completed"
    assert finished["development"] == done


def test_a_workflow_fails_and_is_reopened_in_a_new_round(
    client: httpx.Client,
) -> None:
    task_id = _dev_task(client)["id"]
    _call(client, task_id, "documentation", {"path": "docs/plan.md"})
    _advance(client, task_id, "implementation")

    failed = _call(client, task_id, "fail", {"reason": "the design is wrong"})

    assert failed["phase"] == "failed"
    assert failed["failure_reason"] == "the design is wrong"
    task = client.get(f"/tasks/{task_id}").json()
    assert task["status"] == "failed"
    assert "reopen" in _refused(client, task_id, "advance")
    assert "reopen" in _refused(client, task_id, "fail")

    reopened = _call(client, task_id, "reopen")

    assert reopened["phase"] == "implementation"
    assert reopened["review_round"] == failed["review_round"] + 1
    assert reopened["failure_reason"] == ""
    assert client.get(f"/tasks/{task_id}").json()["status"] == "pending"
    assert "failed or completed" in _refused(client, task_id, "reopen")
    # No body: a reason of the server's own.
    assert _call(client, task_id, "fail")["failure_reason"]


def test_a_completed_workflow_can_be_reopened(client: httpx.Client) -> None:
    project = _project(client, coverage_threshold=0, required_reviews=0)
    task_id = _dev_task(client, project_id=project)["id"]
    _call(client, task_id, "documentation", {"path": "d.md"})
    _advance(client, task_id, "implementation")
    _advance(client, task_id, "test_creation")
    # Tracking only: no test run.
    assert _advance(client, task_id, "testing")["test_run"] is None
    _call(client, task_id, "coverage", {"coverage": 0})
    _advance(client, task_id, "ai_review")
    _advance(client, task_id, "completed")

    reopened = _call(client, task_id, "reopen")

    assert reopened["phase"] == "implementation"
    assert reopened["completed_at"] is None


def test_advancing_out_of_testing_waits_for_a_passing_test_run(
    client: httpx.Client,
) -> None:
    project = _project(client, coverage_threshold=10)
    slow = _dev_task(client, command="sleep 1", project_id=project)["id"]
    failing = _dev_task(client, command="exit 3", project_id=project)["id"]
    for task_id in (slow, failing):
        _call(client, task_id, "documentation", {"path": "d.md"})
        _advance(client, task_id, "implementation")
        _advance(client, task_id, "test_creation")
        _advance(client, task_id, "testing")
        _call(client, task_id, "coverage", {"coverage": 95})

    assert "has not ended" in _refused(client, slow, "advance")
    assert _workflow(client, slow)["next_call"] == "get_task"
    assert _test_run_ended(client, slow)["test_run"]["exit_code"] == 0
    _advance(client, slow, "ai_review")

    ended = _test_run_ended(client, failing)
    assert ended["test_run"]["exit_code"] == 3
    assert "exited 3" in _refused(client, failing, "advance")
    assert ended["next_call"] == "retry_task"


def test_a_task_without_a_project_has_the_default_gates(
    client: httpx.Client,
) -> None:
    workflow = _workflow(client, _dev_task(client)["id"])

    assert (workflow["coverage_threshold"], workflow["required_reviews"]) == (90, 3)


def test_an_ordinary_task_has_no_workflow(client: httpx.Client) -> None:
    task = create_task(client, "plain")

    assert task["development"] is None
    assert client.get(f"/tasks/{task['id']}").json()["development"] is None
    response = client.get(f"/tasks/{task['id']}/workflow")
    assert response.status_code == 409, response.text
    assert "not under the development workflow" in error_of(response)["message"]


# -- errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reviews", _review("m", score=1.5), "score"),
        ("reviews", _review("m", score=-0.1), "score"),
        ("reviews", _review("m", review_type="vibes"), "review_type"),
        ("reviews", _review("m", model_name=""), "model_name"),
        ("reviews", {"model_name": "m", "score": 1}, "review_type"),
        ("coverage", {"coverage": 100.5}, "coverage"),
        ("coverage", {"coverage": -1}, "coverage"),
        ("coverage", {"coverage_percentage": 101}, "coverage_percentage"),
        ("coverage", {}, "coverage"),
        ("documentation", {}, "path"),
        ("documentation", {"path": ""}, "path"),
        ("documentation", {"path": "a", "doc_path": "b"}, "doc_path"),
    ],
)
def test_an_invalid_body_is_a_422_naming_the_field(
    client: httpx.Client, action: str, body: dict[str, Any], field: str
) -> None:
    task_id = str(uuid.uuid4())

    response = client.post(f"/tasks/{task_id}/workflow/{action}", json=body)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "invalid_argument"
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")


def test_a_blank_documentation_path_is_refused_by_the_server_naming_it(
    client: httpx.Client,
) -> None:
    task_id = _dev_task(client)["id"]

    response = client.post(
        f"/tasks/{task_id}/workflow/documentation", json={"path": "   "}
    )

    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == "path"


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_every_route_answers_404_for_an_unknown_task(
    client: httpx.Client, method: str, route: str
) -> None:
    bodies = {
        "documentation": {"path": "d.md"},
        "coverage": {"coverage": 90},
        "reviews": _review("m"),
        "fail": {"reason": "r"},
    }
    path = route.format(id=uuid.uuid4())

    response = client.request(method, path, json=bodies.get(path.rsplit("/", 1)[1]))

    assert response.status_code == 404, response.text
    assert error_of(response)["code"] == "not_found"


def test_the_openapi_document_describes_every_route_and_the_task_field(
    client: httpx.Client,
) -> None:
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]

    for method, route in ROUTES:
        operation = document["paths"][route][method.lower()]
        status = "201" if route.endswith("/reviews") else "200"
        assert {status, "404", "409", "422"} <= set(operation["responses"]), route
    assert "development" in components["Task"]["properties"]
    review_type = components["ReviewIn"]["properties"]["review_type"]
    assert set(review_type["enum"]) == {
        "code_quality",
        "security",
        "performance",
        "documentation",
        "testing",
        "architecture",
    }
    score = components["ReviewIn"]["properties"]["score"]
    assert (score["minimum"], score["maximum"]) == (0, 1)


# -- mapping (no server) ----------------------------------------------------


def test_workflow_json_maps_every_field() -> None:
    workflow = D.DevelopmentWorkflow(
        task_id="t",
        phase=D.DEVELOPMENT_PHASE_AI_REVIEW,
        technical_documentation_path="docs/d.md",
        test_coverage_percentage=0.0,
        review_round=2,
        coverage_threshold=90,
        required_reviews=3,
        instructions="Review it.",
        next_call="add_ai_review_report",
        unmet_gates=["0 of 3 approving reviews"],
        ai_review_reports=[
            D.AiReview(
                model_name="m",
                review_type=D.REVIEW_TYPE_SECURITY,
                content="ok",
                score=0.5,
                approved=True,
                suggestions=["s"],
                round=2,
            )
        ],
        test_run=D.TestRun(attempt=1, exit_code=0),
    )
    workflow.started_at.FromDatetime(datetime(2030, 1, 1, tzinfo=UTC))
    workflow.test_run.finished_at.FromDatetime(datetime(2030, 1, 2, tzinfo=UTC))

    document = convert.development_json(workflow)

    assert _checked(document) == document
    assert document["phase"] == "ai_review"
    # 0 is a reported coverage, not an absent one.
    assert document["test_coverage_percentage"] == 0.0
    assert document["ai_review_reports"] == [
        {
            "model_name": "m",
            "review_type": "security",
            "content": "ok",
            "score": 0.5,
            "approved": True,
            "suggestions": ["s"],
            "round": 2,
            "created_at": None,
        }
    ]
    assert document["test_run"] == {
        "attempt": 1,
        "running": False,
        "exit_code": 0,
        "started_at": None,
        "finished_at": "2030-01-02T00:00:00.000000Z",
    }
    assert document["started_at"] == "2030-01-01T00:00:00.000000Z"
    assert document["completed_at"] is None


@pytest.mark.parametrize(
    ("run", "shown"),
    [
        (None, False),
        (D.TestRun(), False),
        (D.TestRun(running=True), True),
        (D.TestRun(attempt=1), True),
    ],
)
def test_a_test_run_is_null_until_one_has_started(
    run: development_pb2.TestRun | None, shown: bool
) -> None:
    workflow = D.DevelopmentWorkflow(task_id="t", phase=D.DEVELOPMENT_PHASE_TESTING)
    if run is not None:
        workflow.test_run.CopyFrom(run)

    document = convert.development_json(workflow)

    assert (document["test_run"] is not None) is shown
    assert document["test_coverage_percentage"] is None


def test_a_task_carries_its_workflow_or_null() -> None:
    plain = convert.task_json(tasks_pb2.Task(id="t"))
    under = tasks_pb2.Task(id="t", development_workflow=True)
    under.development.CopyFrom(
        D.DevelopmentWorkflow(task_id="t", phase=D.DEVELOPMENT_PHASE_PLANNING)
    )

    document = convert.task_json(under)

    assert plain["development"] is None
    assert document["development"]["phase"] == "planning"
    schemas.Task.model_validate(document)


def test_a_review_body_becomes_an_add_review_request() -> None:
    body = schemas.ReviewIn.model_validate(_review("m", review_type="architecture"))

    request = convert.review_request("t", body)

    assert request.task_id == "t"
    assert request.review_type == D.REVIEW_TYPE_ARCHITECTURE
    assert (request.model_name, request.score, request.approved) == ("m", 0.9, True)


def test_an_advance_from_a_phase_the_task_has_left_is_409(
    client: httpx.Client,
) -> None:
    task = client.post(
        "/tasks", json={"name": "guarded", "development_workflow": True}
    ).json()
    client.post(f"/tasks/{task['id']}/workflow/documentation", json={"path": "d.md"})

    first = client.post(
        f"/tasks/{task['id']}/workflow/advance", json={"from_phase": "planning"}
    )
    again = client.post(
        f"/tasks/{task['id']}/workflow/advance", json={"from_phase": "planning"}
    )

    assert first.status_code == 200
    assert first.json()["phase"] == "implementation"
    assert again.status_code == 409
    assert "already been advanced" in again.json()["error"]["message"]
