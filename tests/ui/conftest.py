"""Fixtures of the dashboard tests: real servers and Debian's headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.rest.live import RestServer, start_rest_server

CHROMIUM = Path(os.environ.get("TQ_UI_CHROMIUM", "/usr/bin/chromium"))
API_KEY = "dashboard-test-key"
VIEWPORT = {"width": 1400, "height": 900}
# Where test_pages_ui.py saves a screenshot of each page; docs/screenshots is
# refreshed with TQ_UI_SCREENSHOTS=docs/screenshots (see docs/ui.md).
SCREENSHOTS_ENV = "TQ_UI_SCREENSHOTS"


# Module scope, not session: Playwright's sync API keeps an event loop on the
# main thread while it is open, which breaks anyio tests (tests/mcp) run by
# the same process afterwards; pytest ends module fixtures before moving on.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Return Playwright's sync API for one test module."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Return Debian's Chromium, headless (Playwright's own browsers are not used)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(scripts/test does) or set TQ_UI_CHROMIUM"
        )
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        # The tests may run as root, where Chromium's sandbox cannot start.
        args=["--no-sandbox", "--disable-dev-shm-usage"],
    )
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Return a page in a fresh browser context (its own cookies)."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """Return a server without an API key, shared by a module's tests."""
    server = start_rest_server(
        tmp_path_factory.mktemp("ui"), slots=2, kill_grace_seconds=1.0
    )
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def keyed_ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """Return a server that requires API_KEY."""
    server = start_rest_server(tmp_path_factory.mktemp("ui-keyed"), api_key=API_KEY)
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Return where page screenshots go: TQ_UI_SCREENSHOTS, else a temp dir."""
    chosen = os.environ.get(SCREENSHOTS_ENV)
    directory = Path(chosen) if chosen else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach server stderr and the page's URL and text to a failed test."""
    report: pytest.TestReport = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, RestServer):
                report.sections.append((f"{name} stderr", value.stderr_text()))
            if isinstance(value, Page) and not value.is_closed():
                try:
                    body = value.inner_text("body", timeout=1_000)
                except Exception as exc:  # the page may be mid-navigation
                    body = f"(unreadable: {exc})"
                report.sections.append((f"{name} at {value.url}", body[:5_000]))
    return report
