"""What keeps open pages live: one WatchEvents stream per API key.

Every page signed in with the same key shares one ``EventHub``: one gRPC
``WatchEvents`` stream (made with that key, server events included) that fans
committed task events, project changes and the queue's pause out to the
pages. Pages react to events; they never reload their tables on a timer.

The stream is opened when the first page subscribes and closed once no page
has listened for ``IDLE_SECONDS``, so a server nobody looks at does not pay
for watching its events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc

from tq_grpc._gen import tasks_pb2
from tq_ui.backend import Api, Stubs

logger = logging.getLogger(__name__)

NAME_CACHE_SIZE = 5_000
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
RESUBSCRIBED_SECONDS = 0.25
IDLE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Change:
    """What a page hears: new events, or that it should read everything again.

    ``resync``: the stream was (re)opened, so events may have been missed.
    ``state``: the queue's pause or the projects changed (a server event).
    """

    events: Sequence[tasks_pb2.TaskEvent] = ()
    resync: bool = False
    state: bool = False


Listener = Callable[[Change], None]


@dataclass(slots=True)
class _Subscription:
    listener: Listener
    wants_state: bool


class EventHub:
    """One key's event stream, shared by the pages signed in with that key."""

    def __init__(
        self,
        api: Api,
        *,
        on_refused: Callable[[EventHub], None],
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.api = api
        self.names: OrderedDict[str, str] = OrderedDict()
        self._subscriptions: dict[int, _Subscription] = {}
        self._next_token = 0
        self._pending: list[tasks_pb2.TaskEvent] = []
        self._flush_scheduled = False
        self._on_refused = on_refused
        self._idle_seconds = idle_seconds
        self._watching: asyncio.Task[None] | None = None
        self._idle: asyncio.TimerHandle | None = None

    @property
    def watching(self) -> bool:
        """Return whether the stream is open (or being opened)."""
        return self._watching is not None

    async def close(self) -> None:
        """Stop the stream."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        task, self._watching = self._watching, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def subscribe(
        self, listener: Listener, *, state: bool = False
    ) -> Callable[[], None]:
        """Call listener with every change; return the function that stops it.

        Args:
            listener: Called on the event loop; it must return quickly.
            state: Also hear of pause and project changes.
        """
        token = self._next_token
        self._next_token += 1
        self._subscriptions[token] = _Subscription(listener, state)
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._watching is None:
            self._watching = asyncio.create_task(self._watch(), name="ui-events")

        def unsubscribe() -> None:
            self._subscriptions.pop(token, None)
            if self._subscriptions or self._watching is None:
                return
            if self._idle is not None:
                self._idle.cancel()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # the app is shutting down
                self._idle = None
                return
            self._idle = loop.call_later(self._idle_seconds, self._go_idle)

        return unsubscribe

    def remember_name(self, task_id: str, name: str) -> None:
        """Cache a task's name for the event feeds."""
        self.names[task_id] = name
        self.names.move_to_end(task_id)
        while len(self.names) > NAME_CACHE_SIZE:
            self.names.popitem(last=False)

    def _go_idle(self) -> None:
        self._idle = None
        if self._subscriptions:
            return
        task, self._watching = self._watching, None
        if task is not None:
            logger.info("Dashboard: no page open; stopped watching events")
            task.cancel()

    async def _watch(self) -> None:
        attempt = 0
        loop = asyncio.get_running_loop()
        request = tasks_pb2.WatchEventsRequest(include_server_events=True)
        while True:
            stream = self.api.stream(self.api.tasks.WatchEvents, request)
            if attempt:
                # Events may have been missed while no stream was open: once
                # the server has surely subscribed this one, pages read again.
                loop.call_later(RESUBSCRIBED_SECONDS, self._resync)
            delivered = False
            try:
                async for answer in stream:
                    delivered = True
                    if answer.WhichOneof("change") == "server_event":
                        self._broadcast(Change(state=True))
                    else:
                        self._take(answer.event)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.UNAUTHENTICATED:
                    # Pages read again, and show the refusal their calls get.
                    self._watching = None
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


class Hubs:
    """The event hubs of the keys people signed in with, made on first use."""

    def __init__(self, stubs: Stubs) -> None:
        self.stubs = stubs
        self._hubs: dict[str, EventHub] = {}

    def get(self, key: str) -> EventHub:
        """Return the hub of key; its stream opens with its first page."""
        hub = self._hubs.get(key)
        if hub is None:
            hub = EventHub(Api(self.stubs, key), on_refused=self._forget)
            self._hubs[key] = hub
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
