"""EventBusActor: fans committed events out and remembers the latest activity."""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence

from tq_actors import defaults
from tq_actors.actor import Actor
from tq_actors.models import (
    Activity,
    ActivityMinute,
    ServerEvent,
    TaskEvent,
    TaskStatus,
)

logger = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[TaskEvent | ServerEvent]], None]

_FINAL = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class EventBusActor(Actor):
    """Delivers every published batch of events to every subscriber.

    Subscribers are called on the bus thread and must not block: adapters
    hand the events over to their own loop or queue. Server events (project
    and queue changes) reach only the subscribers that asked for them.

    The bus also keeps, in memory from start-up, the most recent task events
    and how many tasks reached each final status per minute over the last
    hour: what a dashboard opened later shows as recent activity.
    """

    def __init__(self) -> None:
        super().__init__()
        self._subscribers: dict[int, Subscriber] = {}
        self._server_watchers: set[int] = set()
        self._next_token = 1
        self._since = time.time()
        self._recent: deque[TaskEvent] = deque(maxlen=defaults.RECENT_EVENTS_KEPT)
        self._finished: dict[int, Counter[TaskStatus]] = {}

    def subscribe(self, subscriber: Subscriber, server_events: bool = False) -> int:
        """Register a subscriber; return the token that unsubscribes it."""
        token = self._next_token
        self._next_token += 1
        self._subscribers[token] = subscriber
        if server_events:
            self._server_watchers.add(token)
        return token

    def unsubscribe(self, token: int) -> None:
        """Forget a subscriber."""
        self._subscribers.pop(token, None)
        self._server_watchers.discard(token)

    def publish(self, events: Sequence[TaskEvent]) -> None:
        """Hand a batch of committed task events to every subscriber."""
        for event in events:
            self._remember(event)
        self._deliver(events, list(self._subscribers))

    def publish_server(self, events: Sequence[ServerEvent]) -> None:
        """Hand committed server events to the subscribers that want them."""
        self._deliver(events, list(self._server_watchers))

    def activity(self, max_events: int, now: float | None = None) -> Activity:
        """Return finishes per minute over the last hour and the latest events."""
        current = int((time.time() if now is None else now) // 60)
        first = current - defaults.ACTIVITY_MINUTES + 1
        for minute in [m for m in self._finished if m < first]:
            del self._finished[minute]
        minutes = []
        for minute in range(first, current + 1):
            counted = self._finished.get(minute, Counter())
            minutes.append(
                ActivityMinute(
                    start=minute * 60.0,
                    completed=counted[TaskStatus.COMPLETED],
                    failed=counted[TaskStatus.FAILED],
                    cancelled=counted[TaskStatus.CANCELLED],
                )
            )
        count = min(max_events, len(self._recent))
        recent = tuple(self._recent[-1 - i] for i in range(count))
        return Activity(tuple(minutes), recent, self._since)

    def _remember(self, event: TaskEvent) -> None:
        self._recent.append(event)
        status = event.to_status
        if status in _FINAL and not event.deleted and event.from_status != status:
            minute = int(event.at // 60)
            self._finished.setdefault(minute, Counter())[status] += 1

    def _deliver(
        self, events: Sequence[TaskEvent | ServerEvent], tokens: list[int]
    ) -> None:
        for token in tokens:
            subscriber = self._subscribers.get(token)
            if subscriber is None:
                continue
            try:
                subscriber(events)
            except Exception:
                logger.exception("Event bus: subscriber %d failed; dropped", token)
                self.unsubscribe(token)
