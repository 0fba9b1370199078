"""Fixtures that let CLI commands run against a scripted client."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from taskqueue.cli import options
from tests.cli.fakes import FakeBackend


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    """Make every command's client a fake that answers from a script."""
    fake = FakeBackend()
    monkeypatch.setattr(options, "TaskQueueClient", fake.connect)
    for name in ("TASK_QUEUE_SERVER_URL", "TASK_QUEUE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return fake


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo the root logger set-up that --verbose performs."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
