"""Look at the processes a task left behind, through psutil."""

from __future__ import annotations

import contextlib
import os
import signal

import psutil


def group_members(pgid: int) -> list[psutil.Process]:
    """Return the live processes of a process group; zombies are ignored."""
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) != pgid:
                continue
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
        members.append(process)
    return members


def kill_group(pgid: int) -> None:
    """SIGKILL a process group if any live member is left."""
    if pgid > 0 and group_members(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
