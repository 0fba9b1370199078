"""What keeps open pages live: one WatchEvents stream per API key.

Every page signed in with the same key shares one ``EventHub``: one gRPC
``WatchEvents`` stream (made with that key) that fans committed task events
out to the pages, keeps the most recent ones and counts finished tasks per
minute for the overview's chart. Pages react to events; they never reload
their tables on a timer.

Project edits and the queue's pause are not task events, so the hub also
asks ``GetStats`` and ``ListProjects`` (both answered from memory) once a
second while a page that shows them is open, and tells the pages only when
something changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc

from tq_grpc._gen import common_pb2, projects_pb2, system_pb2, tasks_pb2
from tq_ui.backend import Api, Stubs, UiError

logger = logging.getLogger(__name__)

RECENT_EVENTS = 200
CHART_MINUTES = 60
NAME_CACHE_SIZE = 5_000
STATE_POLL_SECONDS = 1.0
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
RESUBSCRIBED_SECONDS = 0.25
FINISHED = {
    common_pb2.TASK_STATUS_COMPLETED: "completed",
    common_pb2.TASK_STATUS_FAILED: "failed",
    common_pb2.TASK_STATUS_CANCELLED: "cancelled",
}
PROJECT_PAGE = 1_000


@dataclass(frozen=True, slots=True)
class Change:
    """What a page hears: new events, or that it should read everything again.

    ``resync``: the stream was (re)opened, so events may have been missed.
    ``state``: the queue's pause or the projects changed (no task event says so).
    """

    events: Sequence[tasks_pb2.TaskEvent] = ()
    resync: bool = False
    state: bool = False


Listener = Callable[[Change], None]


@dataclass(slots=True)
class _Subscription:
    listener: Listener
    wants_state: bool


@dataclass(slots=True)
class _StateFingerprint:
    paused: bool | None = None
    projects: tuple[tuple[str, int, int], ...] = field(default_factory=tuple)


class EventHub:
    """One key's event stream, its recent events and per-minute finish counts."""

    def __init__(self, api: Api, *, on_refused: Callable[[EventHub], None]) -> None:
        self.api = api
        self.recent: deque[tasks_pb2.TaskEvent] = deque(maxlen=RECENT_EVENTS)
        self.started_at = time.time()
        self.names: OrderedDict[str, str] = OrderedDict()
        self._finished: dict[int, Counter[str]] = {}
        self._subscriptions: dict[int, _Subscription] = {}
        self._next_token = 0
        self._pending: list[tasks_pb2.TaskEvent] = []
        self._flush_scheduled = False
        self._on_refused = on_refused
        self._watching: asyncio.Task[None] | None = None
        self._polling: asyncio.Task[None] | None = None
        self._state = _StateFingerprint()

    def start(self) -> None:
        """Open the stream in the background."""
        if self._watching is None:
            self._watching = asyncio.create_task(self._watch(), name="ui-events")

    async def close(self) -> None:
        """Stop the stream and the state poll."""
        for task in (self._watching, self._polling):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watching = self._polling = None

    def subscribe(
        self, listener: Listener, *, state: bool = False
    ) -> Callable[[], None]:
        """Call listener with every change; return the function that stops it.

        Args:
            listener: Called on the event loop; it must return quickly.
            state: Also hear of pause and project changes (polled once a second).
        """
        token = self._next_token
        self._next_token += 1
        self._subscriptions[token] = _Subscription(listener, state)
        if state and self._polling is None:
            self._polling = asyncio.create_task(self._poll_state(), name="ui-state")

        def unsubscribe() -> None:
            self._subscriptions.pop(token, None)

        return unsubscribe

    def finished_per_minute(
        self, now: float | None = None
    ) -> list[tuple[int, Counter[str]]]:
        """Return (minute start in epoch seconds, counts) for the last hour."""
        current = int((now if now is not None else time.time()) // 60)
        first = current - CHART_MINUTES + 1
        for minute in [m for m in self._finished if m < first]:
            del self._finished[minute]
        return [
            (m * 60, self._finished.get(m, Counter()))
            for m in range(first, current + 1)
        ]

    def remember_name(self, task_id: str, name: str) -> None:
        """Cache a task's name for the event feeds."""
        self.names[task_id] = name
        self.names.move_to_end(task_id)
        while len(self.names) > NAME_CACHE_SIZE:
            self.names.popitem(last=False)

    async def _watch(self) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            stream = self.api.stream(
                self.api.tasks.WatchEvents, tasks_pb2.WatchEventsRequest()
            )
            if attempt:
                # Events may have been missed while no stream was open: once
                # the server has surely subscribed this one, pages read again.
                loop.call_later(RESUBSCRIBED_SECONDS, self._resync)
            delivered = False
            try:
                async for answer in stream:
                    delivered = True
                    self._take(answer.event)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
                    # Pages read again, and show the refusal their calls get.
                    self._on_refused(self)
                    self._broadcast(Change(resync=True))
                    return
                logger.info(
                    "Dashboard: the event stream ended (%s); watching again",
                    exc.code().name,
                )
            finally:
                stream.cancel()
            if delivered:
                attempt = 0
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1

    def _resync(self) -> None:
        self._broadcast(Change(resync=True))

    def _take(self, event: tasks_pb2.TaskEvent) -> None:
        self.recent.append(event)
        status = FINISHED.get(event.to_status)
        if status and not event.deleted and event.to_status != event.from_status:
            minute = event.at.seconds // 60
            self._finished.setdefault(minute, Counter())[status] += 1
        if event.deleted:
            self.names.pop(event.task_id, None)
        self._pending.append(event)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        events, self._pending = self._pending, []
        self._flush_scheduled = False
        if events:
            self._broadcast(Change(events=events))

    def _broadcast(self, change: Change) -> None:
        for subscription in list(self._subscriptions.values()):
            if change.state and not subscription.wants_state:
                continue
            try:
                subscription.listener(change)
            except Exception:
                logger.exception("Dashboard: a page failed to take a change")

    async def _poll_state(self) -> None:
        while any(s.wants_state for s in self._subscriptions.values()):
            try:
                state = await self._read_state()
            except UiError as exc:
                if exc.unauthenticated:
                    return
                state = None
            if state is not None and state != self._state:
                first = self._state.paused is None
                self._state = state
                if not first:
                    self._broadcast(Change(state=True))
            await asyncio.sleep(STATE_POLL_SECONDS)
        self._polling = None

    async def _read_state(self) -> _StateFingerprint:
        stats = await self.api.call(
            self.api.system.GetStats, system_pb2.GetStatsRequest()
        )
        projects: list[tuple[str, int, int]] = []
        token = ""
        while True:
            page = await self.api.call(
                self.api.projects.ListProjects,
                projects_pb2.ListProjectsRequest(
                    page_size=PROJECT_PAGE, page_token=token
                ),
            )
            projects.extend(
                (p.id, p.updated_at.seconds, p.updated_at.nanos) for p in page.projects
            )
            token = page.next_page_token
            if not token:
                break
        return _StateFingerprint(paused=stats.paused, projects=tuple(projects))


class Hubs:
    """The event hubs of the keys people signed in with, started on first use."""

    def __init__(self, stubs: Stubs) -> None:
        self.stubs = stubs
        self._hubs: dict[str, EventHub] = {}

    def get(self, key: str) -> EventHub:
        """Return the hub of key, starting it if needed."""
        hub = self._hubs.get(key)
        if hub is None:
            hub = EventHub(Api(self.stubs, key), on_refused=self._forget)
            self._hubs[key] = hub
            hub.start()
        return hub

    def _forget(self, hub: EventHub) -> None:
        if self._hubs.get(hub.api.key) is hub:
            del self._hubs[hub.api.key]

    async def close(self) -> None:
        """Stop every hub."""
        hubs = list(self._hubs.values())
        self._hubs.clear()
        for hub in hubs:
            await hub.close()
