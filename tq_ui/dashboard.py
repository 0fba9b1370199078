"""The dashboard's process-wide state: settings, the gRPC stubs, keys and hubs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from tq_grpc.settings import Settings
from tq_ui.backend import Api, Stubs
from tq_ui.hub import EventHub, Hubs


class KeyStore:
    """The API keys people signed in with, by browser session, in memory only.

    The browser holds only NiceGUI's signed session cookie (its id); the key
    itself never reaches a cookie or a file, and a restart signs everyone out.
    """

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}
        self._on_sign_out: defaultdict[str, list[Callable[[], None]]] = defaultdict(
            list
        )

    def key_of(self, session_id: str) -> str | None:
        """Return the key of a session, or None when it has not signed in."""
        return self._keys.get(session_id)

    def sign_in(self, session_id: str, key: str) -> None:
        """Remember the key a session signed in with."""
        self._keys[session_id] = key

    def sign_out(self, session_id: str) -> None:
        """Forget a session's key and tell its open pages."""
        self._keys.pop(session_id, None)
        for callback in self._on_sign_out.pop(session_id, []):
            callback()

    def on_sign_out(
        self, session_id: str, callback: Callable[[], None]
    ) -> Callable[[], None]:
        """Call callback when the session signs out; return what cancels that."""
        self._on_sign_out[session_id].append(callback)

        def cancel() -> None:
            callbacks = self._on_sign_out.get(session_id, [])
            if callback in callbacks:
                callbacks.remove(callback)

        return cancel


@dataclass
class Dashboard:
    """Everything the pages share; the stubs exist while the app runs."""

    grpc_target: str
    settings: Settings
    keys: KeyStore = field(default_factory=KeyStore)
    stubs: Stubs | None = None
    hubs: Hubs | None = None

    @property
    def auth_required(self) -> bool:
        """Return whether the server has an API key, so people must give it."""
        return bool(self.settings.api_key)

    def key_for(self, session_id: str) -> str | None:
        """Return the key calls of this session carry; None: sign in first."""
        if not self.auth_required:
            return ""
        return self.keys.key_of(session_id)

    def api(self, key: str) -> Api:
        """Return the stubs as used with key."""
        assert self.stubs is not None, "the dashboard is not running"
        return Api(self.stubs, key)

    def hub(self, key: str) -> EventHub:
        """Return the event hub of key."""
        assert self.hubs is not None, "the dashboard is not running"
        return self.hubs.get(key)

    async def start(self) -> None:
        """Open the channel; a key's event stream opens with its first page.

        Watching every event costs the server about 1 ms of CPU per task run
        (measured with scripts/bench throughput), so the stream is closed
        again once no page has listened for a while (see ``EventHub``).
        """
        self.stubs = Stubs(self.grpc_target)
        self.hubs = Hubs(self.stubs)

    async def stop(self) -> None:
        """Stop the event streams and close the channel."""
        if self.hubs is not None:
            await self.hubs.close()
        if self.stubs is not None:
            await self.stubs.close()
