"""Every page renders with data, without browser errors; a screenshot of each.

The screenshots go to a temp dir, or to TQ_UI_SCREENSHOTS when it is set:
``TQ_UI_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/ui -k screenshot``
refreshes the pictures that docs/ui.md and the README show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.rest.live import (
    RestServer,
    create_task,
    create_workflow,
    start_rest_server,
    wait_status,
    wait_workflow,
)
from tests.ui.browsing import chart_option, open_page
from tests.ui.conftest import API_KEY


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Return a server with a little of everything, for the pictures."""
    server = start_rest_server(tmp_path_factory.mktemp("showcase"), slots=2)
    try:
        with server.client() as client:
            yield {"server": server, **_fill(client)}
    finally:
        server.terminate()


def _fill(client: httpx.Client) -> dict[str, Any]:
    site = client.post(
        "/projects",
        json={"name": "website", "description": "The public site", "tags": ["web"]},
    ).json()
    client.post(
        "/projects",
        json={"name": "frontend", "parent_id": site["id"], "max_parallel": 1},
    )
    ml = client.post(
        "/projects", json={"name": "ml-pipeline", "status": "planning"}
    ).json()
    for number in range(3):
        create_task(
            client,
            f"build-{number}",
            command=f"echo building {number}; echo done",
            project_id=site["id"],
            tags=["ci"],
        )
    failed = create_task(
        client, "flaky-check", command="echo oops >&2; exit 3", project_id=ml["id"]
    )
    wait_status(client, failed["id"], "failed")
    workflow = create_workflow(
        client,
        {
            "name": "release",
            "description": "fetch, build twice, test, publish; report on failure",
            "project_id": site["id"],
            "tasks": [
                {"key": "fetch", "command": "echo fetch"},
                {"key": "build-a", "command": "echo a", "depends_on": ["fetch"]},
                {"key": "build-b", "command": "echo b", "depends_on": ["fetch"]},
                {
                    "key": "test",
                    "command": "echo test",
                    "depends_on": ["build-a", "build-b"],
                },
                {"key": "publish", "command": "echo publish", "depends_on": ["test"]},
                {
                    "key": "report",
                    "command": "echo report",
                    "depends_on": [{"key": "test", "condition": "failure"}],
                },
            ],
        },
    )
    wait_workflow(client, workflow["id"], "completed", "failed")
    training = create_task(
        client,
        "train-model",
        command=(
            "for i in $(seq 1 300); do echo epoch $i loss 0.$((900 - i)); "
            "sleep 0.2; done"
        ),
        project_id=ml["id"],
        priority="critical",
    )
    client.post(
        "/tasks",
        json={
            "name": "nightly-report",
            "command": "make report",
            "start_after": "2099-01-01T00:00:00Z",
        },
    )
    agent = create_task(
        client,
        "write-design-doc",
        description="An agent's task under the development workflow",
        development_workflow=True,
        project_id=site["id"],
    )
    wait_status(client, training["id"], "running")
    return {"workflow": workflow, "running": training, "agent": agent}


def _shoot(page: Page, directory: Path, name: str) -> None:
    page.wait_for_timeout(300)  # let charts finish drawing
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def test_screenshots_of_every_page(
    page: Page, showcase: dict[str, Any], screenshot_dir: Path
) -> None:
    server: RestServer = showcase["server"]
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    open_page(page, server, "/")
    expect(page.get_by_test_id("count-total")).to_have_text("13")
    expect(page.get_by_test_id("running-table")).to_contain_text("train-model")
    # Activity from before the page was opened: kept by the server.
    expect(page.get_by_test_id("events-table")).to_contain_text("train-model")
    finished = chart_option(page, "finished-chart")["series"]
    assert [sum(d["value"] for d in s["data"]) for s in finished[1:]] == [1, 1]
    assert sum(d["value"] for d in finished[0]["data"]) >= 5
    _shoot(page, screenshot_dir, "overview")

    open_page(page, server, "/ui/tasks")
    expect(page.get_by_test_id("task-summary")).to_contain_text("13 matching")
    _shoot(page, screenshot_dir, "tasks")

    page.get_by_test_id("new-task").click()
    page.get_by_test_id("create-name").fill("deploy")
    page.get_by_test_id("create-command").fill("./deploy.sh --env staging")
    _shoot(page, screenshot_dir, "task-create")
    page.keyboard.press("Escape")

    open_page(page, server, f"/ui/tasks/{showcase['running']['id']}")
    expect(page.get_by_test_id("task-log")).to_contain_text("epoch")
    _shoot(page, screenshot_dir, "task-running")

    open_page(page, server, f"/ui/tasks/{showcase['agent']['id']}")
    expect(page.get_by_test_id("development-instructions")).to_be_visible()
    _shoot(page, screenshot_dir, "task-development")

    open_page(page, server, "/ui/projects")
    expect(page.get_by_test_id("project-counts-website")).to_contain_text("total")
    expect(page.get_by_test_id("project-counts-website")).not_to_contain_text(
        "counting"
    )
    _shoot(page, screenshot_dir, "projects")

    open_page(page, server, "/ui/workflows")
    expect(page.get_by_test_id("workflow-status-release")).to_be_visible()
    _shoot(page, screenshot_dir, "workflows")

    open_page(page, server, f"/ui/workflows/{showcase['workflow']['id']}")
    assert len(chart_option(page, "workflow-graph")["series"][0]["data"]) == 6
    _shoot(page, screenshot_dir, "workflow-graph")

    open_page(page, server, "/ui/settings")
    expect(page.get_by_test_id("server-version")).not_to_be_empty()
    _shoot(page, screenshot_dir, "settings")

    assert not errors, errors


def test_screenshot_of_the_sign_in_page(
    page: Page, keyed_ui_server: RestServer, screenshot_dir: Path
) -> None:
    open_page(page, keyed_ui_server, "/")
    page.get_by_test_id("api-key").fill("a-wrong-key")
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    _shoot(page, screenshot_dir, "sign-in")
    page.get_by_test_id("api-key").fill(API_KEY)
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(keyed_ui_server.url + "/")


def test_projects_are_created_edited_nested_and_deleted(
    page: Page, ui_server: RestServer
) -> None:
    open_page(page, ui_server, "/ui/projects")

    page.get_by_test_id("new-project").click()
    page.get_by_test_id("project-name").fill("parent-project")
    page.get_by_test_id("project-save").click()
    expect(page.get_by_test_id("project-parent-project")).to_be_visible()

    page.get_by_test_id("new-project").click()
    page.get_by_test_id("project-name").fill("child-project")
    page.get_by_test_id("project-parent").click()
    page.get_by_role("option", name="parent-project").click()
    page.get_by_test_id("project-max-parallel").fill("2")
    page.get_by_test_id("project-save").click()
    expect(page.get_by_test_id("project-child-project")).to_be_visible()

    with ui_server.client() as client:
        projects = {p["name"]: p for p in client.get("/projects").json()}
        child = projects["child-project"]
        assert child["parent_id"] == projects["parent-project"]["id"]
        assert child["max_parallel"] == 2
        create_task(client, "in-child", project_id=child["id"])
    expect(page.get_by_test_id("project-counts-child-project")).to_contain_text(
        "1 total"
    )

    page.get_by_test_id("edit-child-project").click()
    page.get_by_test_id("project-name").fill("renamed-child")
    page.get_by_test_id("project-save").click()
    expect(page.get_by_test_id("project-renamed-child")).to_be_visible()

    page.get_by_test_id("delete-renamed-child").click()
    page.get_by_test_id("delete-project-cascade").click()
    page.get_by_test_id("confirm-delete-project").click()
    expect(page.get_by_test_id("project-renamed-child")).to_have_count(0)
    with ui_server.client() as client:
        assert "renamed-child" not in {
            p["name"] for p in client.get("/projects").json()
        }


def test_a_project_made_elsewhere_appears_without_a_reload(
    page: Page, ui_server: RestServer
) -> None:
    open_page(page, ui_server, "/ui/projects")
    with ui_server.client() as client:
        client.post("/projects", json={"name": "made-over-rest"})
    expect(page.get_by_test_id("project-made-over-rest")).to_be_visible(timeout=2_000)


def test_a_pause_made_elsewhere_shows_on_the_overview_without_a_reload(
    page: Page, ui_server: RestServer
) -> None:
    open_page(page, ui_server, "/")
    expect(page.get_by_test_id("paused-badge")).to_be_hidden()
    with ui_server.client() as client:
        client.post("/queue/pause")
        try:
            expect(page.get_by_test_id("paused-badge")).to_be_visible(timeout=2_000)
        finally:
            client.post("/queue/resume")
    expect(page.get_by_test_id("paused-badge")).to_be_hidden(timeout=2_000)


def test_pause_and_resume_from_the_settings_page(
    page: Page, ui_server: RestServer
) -> None:
    open_page(page, ui_server, "/ui/settings")
    page.get_by_test_id("pause-queue").click()
    expect(page.get_by_test_id("queue-state")).to_have_text("Queue paused")
    with ui_server.client() as client:
        assert client.get("/stats").json()["paused"] is True
    page.get_by_test_id("resume-queue").click()
    expect(page.get_by_test_id("queue-state")).to_have_text("Queue running")
    with ui_server.client() as client:
        assert client.get("/stats").json()["paused"] is False


def test_the_dashboard_owns_only_its_paths(ui_server: RestServer) -> None:
    with httpx.Client(base_url=ui_server.url, trust_env=False) as client:
        home = client.get("/")
        unknown = client.get("/nowhere")
        unknown_page = client.get("/ui/nowhere")
        tasks = client.get("/tasks")
        wrong_method = client.patch("/tasks/00000000-0000-0000-0000-000000000000")
        ui_root = client.get("/ui")

    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert unknown_page.status_code == 404
    assert tasks.status_code == 200
    assert isinstance(tasks.json(), list)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert ui_root.status_code == 307
    assert ui_root.headers["location"] == "/"
