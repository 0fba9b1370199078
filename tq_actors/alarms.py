"""One thread that calls functions at monotonic deadlines.

Delayed starts and retry back-off need wake-ups far more often than a
thread each would be worth; this keeps one heap and one sleeper. Callbacks
run on the alarm thread and must be quick (they tell an actor).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Alarms:
    """Calls each scheduled function once its deadline has passed."""

    def __init__(self, name: str = "alarms") -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def at(self, deadline: float, callback: Callable[[], None]) -> None:
        """Call callback once time.monotonic() reaches deadline."""
        with self._wake:
            heapq.heappush(self._heap, (deadline, next(self._order), callback))
            if self._heap[0][2] is callback:
                self._wake.notify()

    def stop(self) -> None:
        """End the thread; alarms not yet due are dropped."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._stopped:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    wait = self._heap[0][0] - now if self._heap else None
                    self._wake.wait(wait)
                if self._stopped:
                    return
                _, _, callback = heapq.heappop(self._heap)
            try:
                callback()
            except Exception:
                logger.exception("Alarms: a callback failed")
