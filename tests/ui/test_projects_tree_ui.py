"""The project tree stays readable however deep projects nest."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.rest.live import RestServer
from tests.ui.browsing import open_page

DEPTH = 80


def test_a_deeply_nested_project_is_indented_within_the_page(
    page: Page, ui_server: RestServer
) -> None:
    with ui_server.client() as client:
        parent = ""
        for level in range(DEPTH):
            body = {"name": f"deep-{level}"} | ({"parent_id": parent} if parent else {})
            response = client.post("/projects", json=body)
            assert response.status_code == 201, response.text
            parent = response.json()["id"]
    open_page(page, ui_server, "/ui/projects")

    deepest = page.get_by_test_id(f"project-deep-{DEPTH - 1}")
    expect(deepest).to_be_visible()
    box = deepest.bounding_box()
    width = page.viewport_size
    assert box is not None and width is not None
    assert box["x"] + box["width"] < width["width"]
