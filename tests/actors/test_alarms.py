"""Unit tests of the alarm thread."""

from __future__ import annotations

import queue
import time

from tq_actors.alarms import Alarms


def test_alarms_fire_in_deadline_order_and_never_early() -> None:
    alarms = Alarms()
    fired: queue.Queue[tuple[str, float]] = queue.Queue()
    start = time.monotonic()
    try:
        for name, delay in [("late", 0.3), ("early", 0.1), ("now", 0.0)]:
            deadline = start + delay
            alarms.at(
                deadline,
                lambda name=name, deadline=deadline: fired.put(
                    (name, time.monotonic() - deadline)
                ),
            )
        got = [fired.get(timeout=2) for _ in range(3)]
    finally:
        alarms.stop()

    assert [name for name, _ in got] == ["now", "early", "late"]
    assert all(lateness >= 0 for _, lateness in got)


def test_a_failing_callback_does_not_stop_the_others() -> None:
    alarms = Alarms()
    fired: queue.Queue[str] = queue.Queue()
    try:
        alarms.at(time.monotonic(), lambda: 1 / 0)  # type: ignore[func-returns-value]
        alarms.at(time.monotonic(), lambda: fired.put("ok"))
        assert fired.get(timeout=2) == "ok"
    finally:
        alarms.stop()


def test_stop_drops_alarms_not_yet_due() -> None:
    alarms = Alarms()
    fired: queue.Queue[str] = queue.Queue()
    alarms.at(time.monotonic() + 0.2, lambda: fired.put("late"))

    alarms.stop()

    time.sleep(0.3)
    assert fired.empty()
