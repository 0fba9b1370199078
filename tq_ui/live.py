"""Run a page's refresh when events say its data changed, coalescing bursts.

A burst of events (a batch of 10,000 creations, a workflow finishing) causes
one refresh, then at most one more per ``min_interval`` while events keep
coming: a page reads one page of data per refresh, never more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nicegui import Client

from tq_ui.hub import Change, EventHub

logger = logging.getLogger(__name__)

DELAY_SECONDS = 0.05
MIN_INTERVAL_SECONDS = 0.3


class Refresher:
    """Calls refresh soon after poke(), never twice at once.

    It starts held: a page subscribes before its first read, so that no
    change slips between the read and the subscription, and calls start()
    once it is drawn; changes heard meanwhile cause one refresh then.
    """

    def __init__(
        self,
        client: Client,
        refresh: Callable[[], Awaitable[None]],
        *,
        delay: float = DELAY_SECONDS,
        min_interval: float = MIN_INTERVAL_SECONDS,
    ) -> None:
        self.client = client
        self.refresh = refresh
        self.delay = delay
        self.min_interval = min_interval
        self._dirty = False
        self._held = True
        self._task: asyncio.Task[None] | None = None
        client.on_delete(self.stop)

    def start(self) -> None:
        """Begin refreshing (the page is drawn); catch up on what was heard."""
        self._held = False
        if self._dirty:
            self.poke()

    def poke(self) -> None:
        """Say the data changed: refresh soon."""
        if self.client.is_deleted:
            return
        self._dirty = True
        if self._held:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="ui-refresh")

    def stop(self) -> None:
        """Stop refreshing (the page is gone)."""
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        await asyncio.sleep(self.delay)
        while self._dirty and not self.client.is_deleted:
            self._dirty = False
            try:
                with self.client:
                    await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Dashboard: a page refresh failed")
            await asyncio.sleep(self.min_interval)


def follow(
    client: Client,
    hub: EventHub,
    on_change: Callable[[Change], None],
    *,
    state: bool = False,
) -> None:
    """Hand every change of the hub to on_change while the page is open."""
    unsubscribe = hub.subscribe(on_change, state=state)
    client.on_delete(unsubscribe)


def watch(
    client: Client,
    hub: EventHub,
    refresh: Callable[[], Awaitable[None]],
    *,
    wants: Callable[[Change], bool] | None = None,
    state: bool = False,
    min_interval: float = MIN_INTERVAL_SECONDS,
) -> Refresher:
    """Refresh the page after the changes it wants (all, by default).

    Call it before the page's first read, and start() the refresher after.
    """
    refresher = Refresher(client, refresh, min_interval=min_interval)

    def on_change(change: Change) -> None:
        if change.resync or wants is None or wants(change):
            refresher.poke()

    follow(client, hub, on_change, state=state)
    return refresher


async def cancel_quietly(task: asyncio.Task[None] | None) -> None:
    """Cancel a task and wait for it to end."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
