"""Small helpers of the dashboard tests."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

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
