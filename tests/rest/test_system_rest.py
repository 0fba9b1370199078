"""/stats, /health, /metrics, /openapi.json and the seed's curl examples."""

from __future__ import annotations

import re
from importlib.metadata import version

import httpx

from tests.rest.live import RestServer, create_task, wait_status, wait_until

ROUTES = {
    ("get", "/tasks"),
    ("post", "/tasks"),
    ("get", "/tasks/{id}"),
    ("put", "/tasks/{id}"),
    ("delete", "/tasks/{id}"),
    ("post", "/tasks/{id}/cancel"),
    ("post", "/tasks/{id}/retry"),
    ("get", "/tasks/{id}/logs"),
    ("get", "/tasks/{id}/history"),
    ("get", "/tasks/{id}/workflow"),
    ("post", "/tasks/{id}/workflow/advance"),
    ("post", "/tasks/{id}/workflow/documentation"),
    ("post", "/tasks/{id}/workflow/coverage"),
    ("post", "/tasks/{id}/workflow/reviews"),
    ("post", "/tasks/{id}/workflow/fail"),
    ("post", "/tasks/{id}/workflow/reopen"),
    ("get", "/projects"),
    ("post", "/projects"),
    ("get", "/projects/{id}"),
    ("put", "/projects/{id}"),
    ("delete", "/projects/{id}"),
    ("get", "/projects/{id}/tasks"),
    ("get", "/workflows"),
    ("post", "/workflows"),
    ("get", "/workflows/{id}"),
    ("post", "/workflows/{id}/cancel"),
    ("post", "/workflows/{id}/retry"),
    ("get", "/queue"),
    ("post", "/queue/pause"),
    ("post", "/queue/resume"),
    ("get", "/stats"),
    ("get", "/activity"),
    ("get", "/health"),
    ("get", "/metrics"),
    ("get", "/events"),
}


def test_the_seed_curl_examples_answer_with_json(rest_server: RestServer) -> None:
    with httpx.Client(trust_env=False, timeout=10) as curl:
        answers = {
            path: curl.get(rest_server.url + path)
            for path in ("/tasks", "/projects", "/stats", "/health")
        }

    assert all(a.status_code == 200 for a in answers.values())
    assert isinstance(answers["/tasks"].json(), list)
    assert isinstance(answers["/projects"].json(), list)
    assert {"total_tasks", "queue_depth", "running", "slots"} <= set(
        answers["/stats"].json()
    )
    assert answers["/health"].json()["status"] == "ok"


def test_activity_counts_finishes_per_minute_and_lists_recent_events(
    client: httpx.Client,
) -> None:
    task = create_task(client, "finishes", command="exit 5")
    wait_status(client, task["id"], "failed")

    answer = client.get("/activity", params={"max_events": 3})
    cut = client.get("/activity", params={"max_events": 501})
    refused = client.get("/activity", params={"max_events": -1})

    assert answer.status_code == 200
    activity = answer.json()
    assert len(activity["minutes"]) == 60
    assert activity["minutes"][-1]["start"].endswith(":00.000000Z")
    assert sum(m["failed"] for m in activity["minutes"]) >= 1
    assert len(activity["recent_events"]) == 3
    assert activity["recent_events"][0]["seq"] > activity["recent_events"][2]["seq"]
    assert activity["since"].endswith("Z")
    assert len(cut.json()["recent_events"]) <= 500
    assert refused.status_code == 422
    assert "max_events" in refused.text


def test_stats_count_tasks_by_lower_case_status(client: httpx.Client) -> None:
    before = client.get("/stats").json()
    create_task(client, "counted")

    after = client.get("/stats").json()

    assert (
        after["tasks_by_status"]["pending"] == before["tasks_by_status"]["pending"] + 1
    )
    assert after["total_tasks"] == before["total_tasks"] + 1
    assert after["version"] == version("task-queue")
    assert after["uptime_seconds"] > 0
    assert after["paused"] is False


def test_health_without_a_configured_key_shows_version_and_uptime(
    client: httpx.Client,
) -> None:
    health = client.get("/health").json()

    assert health["status"] == "ok"
    assert health["version"] == version("task-queue")
    assert health["uptime_seconds"] > 0


def test_metrics_count_created_and_finished_tasks_and_measure_latency(
    client: httpx.Client,
) -> None:
    def scrape() -> str:
        response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return response.text

    def counted() -> str | None:
        task = create_task(client, "measured", command="true")
        wait_status(client, task["id"], "completed")
        client.get(f"/tasks/{task['id']}")
        text = scrape()
        return text if _value(text, "taskqueue_task_duration_seconds_count") else None

    text = wait_until(counted, what="the event stream to feed the metrics")

    assert _value(text, "taskqueue_tasks_created_total") >= 1
    assert _value(text, 'taskqueue_tasks_finished_total{status="completed"}') >= 1
    assert 'taskqueue_tasks_finished_total{status="failed"}' in text
    assert _value(text, "taskqueue_queue_depth") >= 0
    assert _value(text, "taskqueue_tasks_running") >= 0
    assert _value(text, "taskqueue_backend_up") == 1
    assert re.search(
        r'taskqueue_http_request_duration_seconds_count\{method="GET",'
        r'route="/tasks/\{id\}",status="200"\} [1-9]',
        text,
    )


def test_openapi_describes_every_route_with_error_bodies(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()

    routes = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert routes == ROUTES
    schemas = document["components"]["schemas"]
    assert {
        "ErrorBody",
        "Task",
        "TaskCreate",
        "Project",
        "Stats",
        "Workflow",
        "WorkflowCreate",
        "QueueState",
        "DevelopmentWorkflow",
        "ReviewIn",
    } <= set(schemas)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/health":
                continue
            for status in ("401", "503"):
                body = operation["responses"][status]["content"]["application/json"]
                assert body["schema"]["$ref"].endswith("/ErrorBody"), (method, path)


def test_an_unknown_route_is_a_json_404(client: httpx.Client) -> None:
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
