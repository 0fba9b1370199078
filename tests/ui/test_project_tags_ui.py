"""The project dialog's tags in a real browser, however slowly the server answers."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.rest.live import RestServer
from tests.ui.browsing import ServerMessages, open_page


def _project(server: RestServer, name: str) -> dict[str, Any]:
    with server.client() as client:
        listed = {p["name"]: p for p in client.get("/projects").json()}
        project: dict[str, Any] = client.get(f"/projects/{listed[name]['id']}").json()
    return project


def test_every_project_tag_typed_is_kept_however_slowly_the_server_answers(
    page: Page, ui_server: RestServer
) -> None:
    socket = ServerMessages(page)
    open_page(page, ui_server, "/ui/projects")
    page.get_by_test_id("new-project").click()
    page.get_by_test_id("project-name").fill("tagged-project")
    page.get_by_test_id("project-tags").click()

    # Each Enter comes before the chip of the tag before it.
    with socket.held():
        page.keyboard.type("alpha\nbeta\ngamma\n")
    page.get_by_test_id("project-save").click()

    expect(page.get_by_test_id("project-tagged-project")).to_be_visible()
    assert _project(ui_server, "tagged-project")["tags"] == ["alpha", "beta", "gamma"]


def test_a_project_edit_removes_and_adds_tags_however_slowly_the_server_answers(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        client.post(
            "/projects", json={"name": "retagged", "tags": ["alpha", "beta", "gamma"]}
        ).raise_for_status()
    socket = ServerMessages(page)
    open_page(page, ui_server, "/ui/projects")
    page.get_by_test_id("edit-retagged").click()
    chips = page.locator(".q-dialog .q-chip")
    expect(chips).to_have_count(3)

    # The new tag is Entered before the chip's removal comes back.
    with socket.held():
        chips.filter(has_text="beta").locator(".q-chip__icon--remove").click()
        page.get_by_test_id("project-tags").click()
        page.keyboard.type("delta\n")
    page.get_by_test_id("project-save").click()

    expect(page.get_by_test_id("project-tags")).to_have_count(0)
    assert _project(ui_server, "retagged")["tags"] == ["alpha", "gamma", "delta"]
