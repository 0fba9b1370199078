"""A page whose browser stalls for seconds stays live, without a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.rest.live import RestServer
from tests.ui.browsing import open_page

STALL_MILLISECONDS = 5_000
# The worst moment to stall: a ping has arrived and its pong is not sent yet.
# A project is created meanwhile; its update reaches the stalled page. Drops
# of the socket are counted; a reload would lose the count itself.
STALL_AT_THE_NEXT_PING = """(args) => {
  window.drops = 0;
  window.socket.on("disconnect", () => { window.drops += 1; });
  const engine = window.socket.io.engine;
  const stall = (packet) => {
    if (packet.type !== "ping") return;
    engine.off("packet", stall);
    fetch("/projects", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({name: args.name}),
    });
    const end = Date.now() + args.ms;
    while (Date.now() < end) {}
    window.stalled = true;
  };
  engine.on("packet", stall);
}"""


def test_a_page_stalled_for_seconds_keeps_its_socket_and_gets_updates(
    page: Page, ui_server: RestServer
) -> None:
    open_page(page, ui_server, "/ui/projects")

    page.evaluate(
        STALL_AT_THE_NEXT_PING,
        {"name": "made-during-a-stall", "ms": STALL_MILLISECONDS},
    )
    page.wait_for_function("() => window.stalled === true", timeout=40_000)

    expect(page.get_by_test_id("project-made-during-a-stall")).to_be_visible(
        timeout=5_000
    )
    assert page.evaluate("() => window.drops") == 0
