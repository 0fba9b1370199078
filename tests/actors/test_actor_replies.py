"""An actor outlives a caller that gave up on its answer."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from tq_actors.actor import Actor, Durable, Handle


class Slow(Actor):
    """Answers once the test lets it."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def wait_then(self, value: int) -> int:
        self.gate.wait(5)
        return value

    def durable(self, ticket: Future[None]) -> Durable:
        return Durable("kept", ticket)

    def ping(self) -> str:
        return "pong"


def test_a_cancelled_reply_does_not_stop_the_actor() -> None:
    gate = threading.Event()
    handle = Handle(Slow.start(gate))
    try:
        plain = handle.ask("wait_then", 1)
        ticket: Future[None] = Future()
        durable = handle.ask("durable", ticket)
        assert plain.cancel() and durable.cancel()
        gate.set()
        ticket.set_result(None)

        assert handle.ask("ping").result(timeout=5) == "pong"
        assert plain.cancelled() and durable.cancelled()
    finally:
        handle.stop()
