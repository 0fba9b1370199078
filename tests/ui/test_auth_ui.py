"""With an API key set, the dashboard shows nothing until it is given the key."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.rest.live import RestServer, create_task
from tests.ui.browsing import open_page
from tests.ui.conftest import API_KEY

PAGES = ("/", "/ui/tasks", "/ui/projects", "/ui/workflows", "/ui/settings")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_browser_without_the_key_to_sign_in(
    keyed_ui_server: RestServer, path: str
) -> None:
    with httpx.Client(base_url=keyed_ui_server.url, trust_env=False) as browser:
        response = browser.get(path)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/login?next=")


def test_without_the_key_the_dashboard_shows_no_data(
    page: Page, keyed_ui_server: RestServer
) -> None:
    with keyed_ui_server.client() as client:
        task = create_task(client, "secret-task-name")

    open_page(page, keyed_ui_server, f"/ui/tasks/{task['id']}")

    assert "/ui/login" in page.url
    expect(page.get_by_test_id("api-key")).to_be_visible()
    assert "secret-task-name" not in page.content()

    page.get_by_test_id("api-key").fill("not-the-key")
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("login-error")).to_have_text(
        "The server refused this key."
    )
    assert "/ui/login" in page.url
    assert "secret-task-name" not in page.content()
    # Still refused on the next page load: a wrong key was not kept.
    open_page(page, keyed_ui_server, "/ui/tasks")
    assert "/ui/login" in page.url


def test_the_right_key_opens_the_page_asked_for_and_sign_out_closes_it(
    page: Page, keyed_ui_server: RestServer
) -> None:
    with keyed_ui_server.client() as client:
        task = create_task(client, "visible-after-sign-in")
    open_page(page, keyed_ui_server, f"/ui/tasks/{task['id']}")

    page.get_by_test_id("api-key").fill(API_KEY)
    page.get_by_test_id("sign-in").click()

    page.wait_for_url(f"**/ui/tasks/{task['id']}")
    expect(page.get_by_test_id("task-name")).to_have_text("visible-after-sign-in")
    open_page(page, keyed_ui_server, "/")
    expect(page.get_by_test_id("count-total")).not_to_have_text("—")

    page.get_by_test_id("sign-out").click()
    page.wait_for_url("**/ui/login")
    open_page(page, keyed_ui_server, "/ui/tasks")
    assert "/ui/login" in page.url


def test_the_rest_api_still_requires_the_key_beside_the_dashboard(
    keyed_ui_server: RestServer,
) -> None:
    with httpx.Client(base_url=keyed_ui_server.url, trust_env=False) as anonymous:
        assert anonymous.get("/tasks").status_code == 401
        assert anonymous.get("/stats").status_code == 401
        assert anonymous.post("/mcp", json={}).status_code == 401
        # The dashboard's static assets carry no data and stay reachable.
        assert anonymous.get("/favicon.ico").status_code == 200
