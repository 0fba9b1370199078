"""EventBusActor: fans committed task events out to subscribers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from tq_actors.actor import Actor
from tq_actors.models import TaskEvent

logger = logging.getLogger(__name__)

Subscriber = Callable[[Sequence[TaskEvent]], None]


class EventBusActor(Actor):
    """Delivers every published batch of events to every subscriber.

    Subscribers are called on the bus thread and must not block: adapters
    hand the events over to their own loop or queue.
    """

    def __init__(self) -> None:
        super().__init__()
        self._subscribers: dict[int, Subscriber] = {}
        self._next_token = 1

    def subscribe(self, subscriber: Subscriber) -> int:
        """Register a subscriber; return the token that unsubscribes it."""
        token = self._next_token
        self._next_token += 1
        self._subscribers[token] = subscriber
        return token

    def unsubscribe(self, token: int) -> None:
        """Forget a subscriber."""
        self._subscribers.pop(token, None)

    def publish(self, events: Sequence[TaskEvent]) -> None:
        """Hand a batch of committed events to every subscriber."""
        for token, subscriber in list(self._subscribers.items()):
            try:
                subscriber(events)
            except Exception:
                logger.exception("Event bus: subscriber %d failed; dropped", token)
                self._subscribers.pop(token, None)
