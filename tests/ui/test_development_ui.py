"""The development workflow driven from the task page, gate by gate."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.rest.live import RestServer, create_task
from tests.ui.browsing import open_page


def current_phase(page: Page, phase: str) -> None:
    """Wait until the page shows phase as the current one."""
    expect(
        page.locator(f"[data-testid=phase-{phase}][data-current=true]")
    ).to_be_visible()


def fill_dialog(page: Page, **fields: str) -> None:
    """Fill a development dialog's fields and save it."""
    for name, value in fields.items():
        page.get_by_test_id(f"dev-field-{name}").fill(value)
    page.get_by_test_id("dev-submit").click()


def test_a_development_task_goes_through_every_phase_from_its_page(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        project = client.post(
            "/projects", json={"name": "dev-ui", "required_reviews": 1}
        ).json()
        task = create_task(
            client,
            "built-in-the-browser",
            command="true",
            development_workflow=True,
            project_id=project["id"],
        )
    open_page(page, ui_server, f"/ui/tasks/{task['id']}")
    current_phase(page, "planning")

    # A skipped gate is refused with the server's reason; nothing moves.
    page.get_by_test_id("dev-advance").click()
    expect(page.get_by_text("documentation").first).to_be_visible()
    current_phase(page, "planning")

    page.get_by_test_id("dev-documentation").click()
    fill_dialog(page, path="docs/built.md")
    expect(page.get_by_text("docs/built.md", exact=True)).to_be_visible()
    for phase in ("implementation", "test_creation", "testing"):
        page.get_by_test_id("dev-advance").click()
        current_phase(page, phase)

    page.get_by_test_id("dev-coverage").click()
    fill_dialog(page, coverage="95")
    expect(page.get_by_text("95% (needs 90%)", exact=True)).to_be_visible()
    # The test run (the task's command) must have passed: wait for it.
    deadline = time.monotonic() + 15
    while True:
        page.get_by_test_id("dev-advance").click()
        try:
            current_phase(page, "ai_review")
            break
        except AssertionError:
            assert time.monotonic() < deadline, "testing never passed its gate"

    page.get_by_test_id("dev-review").click()
    fill_dialog(page, model="reviewer-one", content="Looks right.")
    page.get_by_test_id("dev-advance").click()
    current_phase(page, "completed")
    expect(page.get_by_test_id("task-status")).to_have_text("completed")

    with ui_server.client() as client:
        workflow = client.get(f"/tasks/{task['id']}/workflow").json()
    assert workflow["phase"] == "completed"
    assert workflow["technical_documentation_path"] == "docs/built.md"
    assert workflow["test_coverage_percentage"] == 95
    assert [r["model_name"] for r in workflow["ai_review_reports"]] == ["reviewer-one"]

    page.get_by_test_id("dev-reopen").click()
    current_phase(page, "implementation")


def test_failing_the_workflow_from_its_page_keeps_the_reason(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        task = create_task(client, "given-up", development_workflow=True)
    open_page(page, ui_server, f"/ui/tasks/{task['id']}")

    page.get_by_test_id("dev-fail").click()
    fill_dialog(page, reason="requirements withdrawn")

    expect(
        page.get_by_text("Failed: requirements withdrawn", exact=True)
    ).to_be_visible()
    with ui_server.client() as client:
        workflow = client.get(f"/tasks/{task['id']}/workflow").json()
    assert workflow["phase"] == "failed"
    assert workflow["failure_reason"] == "requirements withdrawn"
