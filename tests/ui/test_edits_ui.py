"""Changing a task and creating a workflow from the dashboard."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.rest.live import RestServer, create_task
from tests.ui.browsing import open_page


def test_a_task_is_edited_from_its_page_and_only_changes_are_sent(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        task = create_task(
            client,
            "before-the-edit",
            description="kept as it was",
            tags=["a"],
            env={"KEEP": "1"},
            start_after="2099-01-01T00:00:00Z",
        )
    open_page(page, ui_server, f"/ui/tasks/{task['id']}")

    page.get_by_test_id("task-edit").click()
    page.get_by_test_id("edit-name").fill("after-the-edit")
    page.get_by_test_id("edit-tags").fill("b, c")
    page.get_by_test_id("edit-timeout_seconds").fill("45")
    page.get_by_test_id("edit-start_after").fill("")
    page.get_by_test_id("edit-save").click()

    expect(page.get_by_test_id("task-name")).to_have_text("after-the-edit")
    with ui_server.client() as client:
        changed = client.get(f"/tasks/{task['id']}").json()
    assert changed["name"] == "after-the-edit"
    assert changed["tags"] == ["b", "c"]
    assert changed["timeout_seconds"] == 45
    assert changed["start_after"] is None
    assert changed["description"] == "kept as it was"
    assert changed["env"] == {"KEEP": "1"}


def test_a_bad_edit_is_named_and_changes_nothing(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        task = create_task(client, "left-alone", start_after="2099-01-01T00:00:00Z")
    open_page(page, ui_server, f"/ui/tasks/{task['id']}")

    page.get_by_test_id("task-edit").click()
    page.get_by_test_id("edit-name").fill("never-saved")
    page.get_by_test_id("edit-start_after").fill("next tuesday")
    page.get_by_test_id("edit-save").click()

    expect(page.get_by_text("Start after: write a time")).to_be_visible()
    with ui_server.client() as client:
        assert client.get(f"/tasks/{task['id']}").json()["name"] == "left-alone"


def test_a_workflow_document_typed_in_the_dialog_is_created_and_shown(
    page: Page, ui_server: RestServer
) -> None:
    open_page(page, ui_server, "/ui/workflows")

    page.get_by_test_id("new-workflow").click()
    page.get_by_test_id("workflow-document").fill(
        "name: typed-in-the-browser\n"
        "tasks:\n"
        "  - key: first\n"
        "    command: echo one\n"
        "  - key: second\n"
        "    command: echo two\n"
        "    depends_on: [first]\n"
    )
    page.get_by_test_id("workflow-create-submit").click()

    page.wait_for_url(re.compile(r"/ui/workflows/[0-9a-f-]{36}$"))
    workflow_id = page.url.rsplit("/", 1)[1]
    with ui_server.client() as client:
        workflow = client.get(f"/workflows/{workflow_id}").json()
    assert workflow["name"] == "typed-in-the-browser"
    assert sorted(t["key"] for t in workflow["tasks"]) == ["first", "second"]


def test_a_bad_workflow_document_is_named_and_nothing_is_created(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        before = len(client.get("/workflows", params={"limit": 1000}).json())
    open_page(page, ui_server, "/ui/workflows")

    page.get_by_test_id("new-workflow").click()
    page.get_by_test_id("workflow-document").fill(
        "name: broken\ntasks:\n  - key: a\n    comand: typo\n"
    )
    page.get_by_test_id("workflow-create-submit").click()

    expect(page.get_by_test_id("workflow-problem")).to_have_text(
        "tasks[0].comand: unknown field."
    )
    page.get_by_test_id("workflow-document").fill(
        "name: cyclic\ntasks:\n  - key: a\n    depends_on: [b]\n"
        "  - key: b\n    depends_on: [a]\n"
    )
    page.get_by_test_id("workflow-create-submit").click()
    expect(page.get_by_test_id("workflow-problem")).to_contain_text("cycle")
    with ui_server.client() as client:
        assert len(client.get("/workflows", params={"limit": 1000}).json()) == before
