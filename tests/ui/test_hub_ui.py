"""The dashboard's event hub: one stream while pages listen, none when idle."""

from __future__ import annotations

import asyncio
from typing import Any

from tq_grpc._gen import common_pb2, tasks_pb2
from tq_ui.hub import Change, EventHub


class FakeStream:
    """A WatchEvents call that hands out what the test puts, until cancelled."""

    def __init__(self, request: tasks_pb2.WatchEventsRequest) -> None:
        self.request = request
        self.answers: asyncio.Queue[tasks_pb2.WatchEventsResponse] = asyncio.Queue()
        self.cancelled = False

    def __aiter__(self) -> FakeStream:
        return self

    async def __anext__(self) -> tasks_pb2.WatchEventsResponse:
        return await self.answers.get()

    def cancel(self) -> None:
        self.cancelled = True


class FakeApi:
    """The part of tq_ui.backend.Api the hub uses."""

    key = ""

    def __init__(self) -> None:
        self.tasks = self
        self.streams: list[FakeStream] = []

    def WatchEvents(self, request: Any) -> None:
        raise AssertionError("the hub opens streams through Api.stream")

    def stream(self, method: Any, request: Any) -> FakeStream:
        opened = FakeStream(request)
        self.streams.append(opened)
        return opened


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_the_stream_opens_with_the_first_page_and_closes_when_idle() -> None:
    async def scenario() -> None:
        api = FakeApi()
        hub = EventHub(api, on_refused=lambda _: None, idle_seconds=0.3)  # type: ignore[arg-type]
        assert not hub.watching and api.streams == []

        first = hub.subscribe(lambda _: None)
        second = hub.subscribe(lambda _: None)
        await settle()
        assert len(api.streams) == 1
        assert api.streams[0].request.include_server_events

        first()
        await asyncio.sleep(0.6)
        assert hub.watching, "one page still listens"
        second()
        await settle()
        again = hub.subscribe(lambda _: None)  # a page opened within the grace
        await asyncio.sleep(0.6)
        assert hub.watching and len(api.streams) == 1

        again()
        await asyncio.sleep(0.6)
        assert not hub.watching
        assert api.streams[0].cancelled

        hub.subscribe(lambda _: None)
        await settle()
        assert hub.watching and len(api.streams) == 2
        await hub.close()

    asyncio.run(scenario())


def test_server_events_reach_only_pages_that_show_state() -> None:
    async def scenario() -> None:
        api = FakeApi()
        hub = EventHub(api, on_refused=lambda _: None)  # type: ignore[arg-type]
        plain: list[Change] = []
        stateful: list[Change] = []
        hub.subscribe(plain.append)
        hub.subscribe(stateful.append, state=True)
        await settle()
        stream = api.streams[0]
        paused = tasks_pb2.ServerEvent(kind=tasks_pb2.SERVER_EVENT_KIND_QUEUE_PAUSED)
        event = tasks_pb2.TaskEvent(
            seq=7, task_id="t", to_status=common_pb2.TASK_STATUS_PENDING
        )
        stream.answers.put_nowait(tasks_pb2.WatchEventsResponse(server_event=paused))
        stream.answers.put_nowait(tasks_pb2.WatchEventsResponse(event=event))
        await settle()
        await hub.close()

        assert [c.state for c in stateful] == [True, False]
        assert [e.seq for e in stateful[1].events] == [7]
        assert [(c.state, [e.seq for e in c.events]) for c in plain] == [(False, [7])]

    asyncio.run(scenario())
