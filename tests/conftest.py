"""Fixtures that run the real server as a subprocess."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.server_process import ServerFactory, ServerProcess

SHARED_SLOTS = 2
SHARED_GRACE_SECONDS = 1.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Return a factory of real servers; every one is stopped at teardown."""
    factory = ServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.terminate_all()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Return one server shared by a module's tests that need no fresh state."""
    factory = ServerFactory(tmp_path_factory.mktemp("shared"))
    try:
        yield factory(slots=SHARED_SLOTS, kill_grace_seconds=SHARED_GRACE_SECONDS)
    finally:
        factory.terminate_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the stderr of every server of a failed test to its report."""
    report: pytest.TestReport = yield
    if report.failed:
        for title, process in _servers_of(item):
            report.sections.append((title, process.stderr_text() or "(empty)"))
    return report


def _servers_of(item: pytest.Item) -> list[tuple[str, ServerProcess]]:
    funcargs = getattr(item, "funcargs", {})
    found = []
    factory = funcargs.get("server")
    if isinstance(factory, ServerFactory):
        for index, process in enumerate(factory.started):
            found.append((f"server {index} stderr", process))
    shared = funcargs.get("shared_server")
    if isinstance(shared, ServerProcess):
        found.append(("shared server stderr", shared))
    return found
