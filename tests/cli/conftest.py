"""Fixtures that let CLI commands run against a scripted client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskqueue.cli import options
from taskqueue.cli.settings import SETTINGS
from tests.cli.fakes import FakeBackend


@pytest.fixture(autouse=True)
def _private_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Keep every test off the real ~/.config and the CLI's own variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    """Make every command's client a fake that answers from a script."""
    fake = FakeBackend()
    monkeypatch.setattr(options, "TaskQueueClient", fake.connect)
    return fake


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo the root logger set-up that --verbose performs."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
