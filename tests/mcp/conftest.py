"""Fixtures of the MCP tests: real servers reached over MCP."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.rest.live import RestServer, start_rest_server


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, which grpc.aio and the MCP client share."""
    return "asyncio"


@pytest.fixture(scope="session")
def mcp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestServer]:
    """Return one server without an API key, shared by every MCP test.

    Tests that count or list make their own project, so they do not see
    each other's tasks.
    """
    server = start_rest_server(tmp_path_factory.mktemp("mcp"))
    try:
        yield server
    finally:
        server.terminate()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the stderr of the servers of a failed test to its report."""
    report: pytest.TestReport = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, RestServer):
                report.sections.append((f"{name} stderr", value.stderr_text()))
    return report
