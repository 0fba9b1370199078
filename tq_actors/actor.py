"""Message plumbing shared by the actors.

A request is a ``Call`` naming a method. ``ask`` returns a
``concurrent.futures.Future`` that any thread or event loop can wait on
without blocking the actor; ``tell`` expects no answer. A method may return
``Durable(value, ticket)``: the caller then hears the value only once the
store has made the change durable; or a Future, which the reply follows.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

import pykka

from tq_actors.errors import TaskQueueError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Call:
    """A request to run ``method(*args)`` on an actor."""

    method: str
    args: tuple[Any, ...]
    reply: Future[Any] | None


@dataclass(frozen=True, slots=True)
class Durable:
    """A result to release once the commit ``ticket`` has resolved."""

    value: Any
    ticket: Future[None]


class Actor(pykka.ThreadingActor):
    """Runs Calls one at a time; an exception never stops the actor."""

    def on_receive(self, message: Any) -> Any:
        """Dispatch a Call to the named method and settle its reply."""
        if not isinstance(message, Call):
            logger.warning("%s: ignored a message of type %s", self, type(message))
            return None
        try:
            result = getattr(self, message.method)(*message.args)
        except TaskQueueError as exc:
            self._fail(message, exc, anticipated=True)
            return None
        except Exception as exc:
            self._fail(message, exc, anticipated=False)
            return None
        if message.reply is not None:
            _settle(message.reply, result)
        return None

    def _fail(self, message: Call, exc: Exception, *, anticipated: bool) -> None:
        if not anticipated:
            logger.exception("%s: %s failed", type(self).__name__, message.method)
        if message.reply is not None:
            _answer(message.reply, error=exc)
        elif anticipated:
            logger.info("%s: %s refused: %s", type(self).__name__, message.method, exc)


def _settle(reply: Future[Any], result: Any) -> None:
    if isinstance(result, Future):
        result.add_done_callback(lambda done: _copy(done, reply))
        return
    if not isinstance(result, Durable):
        _answer(reply, result)
        return

    def release(ticket: Future[None]) -> None:
        error = ticket.exception()
        if error is None:
            _answer(reply, result.value)
        else:
            _answer(reply, error=error)

    result.ticket.add_done_callback(release)


def _copy(source: Future[Any], target: Future[Any]) -> None:
    error = source.exception()
    if error is None:
        _answer(target, source.result())
    else:
        _answer(target, error=error)


def _answer(
    reply: Future[Any], value: Any = None, *, error: BaseException | None = None
) -> None:
    """Settle reply, unless its caller gave up (a cancelled RPC cancels it)."""
    if reply.cancelled():
        return
    try:
        if error is None:
            reply.set_result(value)
        else:
            reply.set_exception(error)
    except InvalidStateError:
        # Cancelled between the check and the answer: nobody is waiting.
        logger.debug("Actor: a reply was cancelled before its answer")


class Handle:
    """A typed-enough reference to a running actor."""

    def __init__(self, ref: pykka.ActorRef[Any]) -> None:
        self._ref = ref

    def tell(self, method: str, *args: Any) -> None:
        """Send a Call without waiting for an answer."""
        self._ref.tell(Call(method, args, None))

    def ask(self, method: str, *args: Any) -> Future[Any]:
        """Send a Call and return a future of its answer."""
        reply: Future[Any] = Future()
        try:
            self._ref.tell(Call(method, args, reply))
        except pykka.ActorDeadError as exc:
            reply.set_exception(exc)
        return reply

    def stop(self) -> None:
        """Stop the actor after the messages already queued."""
        self._ref.stop(block=True)
