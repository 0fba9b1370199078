"""Per-task log files: capped writing and reading by byte offset."""

from __future__ import annotations

import os
from pathlib import Path

from tq_actors.models import LogChunk

TRUNCATION_MARK = b"\n[task-queue] output truncated: the log size cap was reached\n"


class LogFiles:
    """Where task logs live, and how they are read and removed."""

    def __init__(self, directory: Path, *, cap_bytes: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.cap_bytes = cap_bytes

    def path(self, task_id: str) -> Path:
        """Return the log file of a task."""
        return self.directory / f"{task_id}.log"

    def open_sink(self, task_id: str, header: bytes = b"") -> LogSink:
        """Open a task's log for appending output."""
        return LogSink(self.path(task_id), cap_bytes=self.cap_bytes, header=header)

    def size(self, task_id: str) -> int:
        """Return the bytes of output kept for a task."""
        try:
            return self.path(task_id).stat().st_size
        except FileNotFoundError:
            return 0

    def read(
        self, task_id: str, offset: int, max_bytes: int, *, ended: bool
    ) -> LogChunk:
        """Return up to max_bytes of a task's log from offset."""
        try:
            with self.path(task_id).open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                file.seek(min(offset, size))
                data = file.read(max_bytes)
        except FileNotFoundError:
            size, data = 0, b""
        next_offset = min(offset, size) + len(data)
        return LogChunk(
            data=data,
            next_offset=next_offset,
            size_bytes=size,
            eof=ended and next_offset >= size,
            truncated=size > self.cap_bytes,
        )

    def remove(self, task_id: str) -> None:
        """Delete a task's log, if any."""
        self.path(task_id).unlink(missing_ok=True)


class LogSink:
    """Appends output to one log file, dropping what exceeds the cap.

    The file is created on the first write, so a silent task costs no file.
    """

    def __init__(self, path: Path, *, cap_bytes: int, header: bytes = b"") -> None:
        self._path = path
        self._fd = -1
        self._size = 0
        self._cap = cap_bytes
        self._truncated = False
        self._header = header

    def write(self, data: bytes) -> None:
        """Append data up to the cap; mark the log once when output is dropped."""
        if self._fd < 0:
            self._open()
        room = self._cap - self._size
        if room <= 0:
            self._mark_truncated()
            return
        chunk = data[:room]
        os.write(self._fd, chunk)
        self._size += len(chunk)
        if len(chunk) < len(data):
            self._mark_truncated()

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _open(self) -> None:
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = os.fstat(self._fd).st_size
        header, self._header = self._header, b""
        if header:
            self.write(header)

    def _mark_truncated(self) -> None:
        if not self._truncated:
            self._truncated = True
            os.write(self._fd, TRUNCATION_MARK)
