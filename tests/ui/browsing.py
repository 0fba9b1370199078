"""Small helpers of the dashboard tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Page, WebSocketRoute

from tests.rest.live import RestServer


def open_page(page: Page, server: RestServer, path: str) -> None:
    """Go to path and wait until the page's socket is connected (it is live)."""
    page.goto(server.url + path)
    page.wait_for_function("() => window.did_handshake === true")


def chart_option(page: Page, test_id: str) -> dict[str, Any]:
    """Return the options an ECharts element is drawing now."""
    element_id = page.get_by_test_id(test_id).get_attribute("id")
    assert element_id is not None and element_id.startswith("c"), element_id
    option: dict[str, Any] = page.evaluate(
        "(id) => { const o = getElement(id).chart.getOption();"
        " return {series: o.series.map(s => ({type: s.type,"
        " data: (s.data || []).map(d => (typeof d === 'object' ? d : {value: d})),"
        " links: s.links || [], categories: s.categories || []}))}; }",
        int(element_id[1:]),
    )
    return option


# An Engine.IO ping: relayed at once, or the server would drop a held socket.
PING = "2"


class ServerMessages:
    """Relays the dashboard socket's messages to a page; can hold them back."""

    def __init__(self, page: Page) -> None:
        self._holding = False
        self._held: list[str | bytes] = []
        self._route: WebSocketRoute | None = None
        page.route_web_socket(re.compile(r".*/_nicegui_ws/.*"), self._connect)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Deliver no message to the page inside the block, all of them after."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            while self._held and self._route is not None:
                self._route.send(self._held.pop(0))

    def _connect(self, route: WebSocketRoute) -> None:
        self._route = route
        server = route.connect_to_server()
        server.on_message(self._relay)
        route.on_message(server.send)

    def _relay(self, message: str | bytes) -> None:
        assert self._route is not None  # set before the server can answer
        if message == PING or not (self._holding or self._held):
            self._route.send(message)
        else:
            self._held.append(message)
