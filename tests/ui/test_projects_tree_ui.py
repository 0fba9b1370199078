"""The project tree stays readable however deep projects nest."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.rest.live import RestServer, wait_until
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
    viewport = page.viewport_size
    assert viewport is not None

    def ends_within_the_page() -> bool:
        # Live updates may redraw the table: ask again until it has settled.
        box = deepest.bounding_box()
        return box is not None and box["x"] + box["width"] < viewport["width"]

    wait_until(ends_within_the_page, what="the deepest project within the page")
