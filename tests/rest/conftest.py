"""Fixtures of the REST tests: real servers reached over HTTP."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import httpx
import pytest

from tests.rest.live import RestServer, start_rest_server


@pytest.fixture(scope="session")
def rest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """Return one server without an API key, shared by the whole session."""
    server = start_rest_server(tmp_path_factory.mktemp("rest"))
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture
def client(rest_server: RestServer) -> Iterator[httpx.Client]:
    """Return an httpx client of the shared server."""
    with rest_server.client() as http:
        yield http


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the stderr of the REST servers of a failed test to its report."""
    report: pytest.TestReport = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, RestServer):
                report.sections.append((f"{name} stderr", value.stderr_text()))
    return report
