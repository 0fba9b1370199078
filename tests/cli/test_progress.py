"""The progress line of ``tasks wait`` and ``workflows wait``: on a terminal only."""

from __future__ import annotations

import io
import sys
import time
from typing import Any

import pytest

from taskqueue.cli import main, progress
from tests.cli.fakes import TASK_ID, WORKFLOW_ID, FakeBackend, make_task, make_workflow


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_nothing_is_drawn_on_a_stream_that_is_not_a_terminal() -> None:
    stream = io.StringIO()

    with progress.progress(True, stream) as line:
        line.update("running")
        time.sleep(0.2)

    assert isinstance(line, progress.NoProgress)
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_line_that_is_erased_at_the_end() -> None:
    stream = Terminal()

    with progress.progress(True, stream) as line:
        line.update("build: running")
        time.sleep(0.4)

    drawn = stream.getvalue()
    assert "build: running · 0s" in drawn
    # Transient: the last thing written goes up a line and erases it.
    assert drawn.endswith("\x1b[1A\x1b[2K")


def test_progress_can_be_turned_off() -> None:
    stream = Terminal()

    with progress.progress(False, stream) as line:
        line.update("running")

    assert stream.getvalue() == ""


def slow_wait(states: list[Any]) -> Any:
    def wait(*args: Any, on_change: Any, **kwargs: Any) -> Any:
        for state in states:
            on_change(state)
            time.sleep(0.3)
        return states[-1]

    return wait


@pytest.mark.parametrize("flags", [(), ("--no-progress",)])
def test_tasks_wait_draws_on_a_terminal_unless_told_not_to(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
) -> None:
    backend.answers["wait"] = slow_wait(
        [make_task(status="running", attempt=2), make_task(status="completed")]
    )
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    code = main([*flags, "tasks", "wait", TASK_ID])

    assert code == 0
    assert ["status", "completed"] in [
        line.split() for line in capsys.readouterr().out.splitlines()
    ]
    if flags:
        assert terminal.getvalue() == ""
    else:
        assert "build: running (attempt 2)" in terminal.getvalue()


def test_workflows_wait_draws_its_counts_on_a_terminal(
    backend: FakeBackend,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend.answers["wait_workflow"] = slow_wait(
        [make_workflow(), make_workflow(status="completed")]
    )
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    code = main(["workflows", "wait", WORKFLOW_ID])

    assert code == 0
    assert "build: running: 1/2 ended (1 completed), 1 waiting" in terminal.getvalue()
    assert capsys.readouterr().err == ""


def test_the_show_progress_setting_comes_from_the_environment(
    backend: FakeBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend.answers["wait"] = slow_wait([make_task(status="completed")])
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("TASK_QUEUE_SHOW_PROGRESS", "false")

    assert main(["tasks", "wait", TASK_ID]) == 0
    assert terminal.getvalue() == ""
