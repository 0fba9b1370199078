"""A one-line progress display on stderr while ``tasks wait`` / ``workflows wait`` run.

It is drawn only when stderr is a terminal (and ``ui.show_progress`` is on),
and erased when the wait ends, so piped and redirected output never carries
it. The line shows a spinner, what the wait last saw and the time waited.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from taskqueue.cli import output


class ProgressLine:
    """What the display shows; ``update`` replaces the text."""

    def __init__(self, text: str = "waiting") -> None:
        self.text = text
        self.started = time.monotonic()
        self._spinner = Spinner("dots", style="cyan" if output.STYLE.colors else "")

    def update(self, text: str) -> None:
        """Show ``text`` from the next refresh on."""
        self.text = text

    def __rich__(self) -> RenderableType:
        elapsed = output.format_duration(time.monotonic() - self.started)
        line = Table.grid(padding=(0, 1))
        line.add_row(self._spinner, Text(f"{self.text} · {elapsed}"))
        return Group(line)


class NoProgress:
    """Stands in for ProgressLine when nothing is drawn."""

    def update(self, text: str) -> None:
        """Draw nothing."""


def is_terminal(stream: TextIO) -> bool:
    """Return whether ``stream`` is an interactive terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(
    enabled: bool, stream: TextIO | None = None
) -> Iterator[ProgressLine | NoProgress]:
    """Draw a progress line on ``stream`` (stderr) while the block runs.

    Nothing is drawn unless ``enabled`` and the stream is a terminal.
    """
    stream = sys.stderr if stream is None else stream
    if not enabled or not is_terminal(stream):
        yield NoProgress()
        return
    line = ProgressLine()
    console = Console(
        file=stream,
        force_terminal=True,
        highlight=False,
        no_color=not output.STYLE.colors,
    )
    with Live(line, console=console, refresh_per_second=8, transient=True):
        yield line
