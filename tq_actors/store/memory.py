"""In-memory Store for tests: same ordering and atomicity, no durability."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from tq_actors.store.keys import COLUMN_FAMILIES
from tq_actors.store.protocol import Op


class MemoryStore:
    """A Store kept in sorted lists; commits resolve at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[bytes, bytes]] = {cf: {} for cf in COLUMN_FAMILIES}
        self._keys: dict[str, list[bytes]] = {cf: [] for cf in COLUMN_FAMILIES}

    def get(self, cf: str, key: bytes) -> bytes | None:
        """Return the value of a key, or None."""
        return self._data[cf].get(key)

    def get_many(self, cf: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """Return the values of several keys, in order."""
        table = self._data[cf]
        return [table.get(key) for key in keys]

    def scan(
        self, cf: str, prefix: bytes, *, after: bytes | None = None, limit: int
    ) -> list[tuple[bytes, bytes]]:
        """Return up to limit items under prefix, in key order."""
        with self._lock:
            keys = self._keys[cf]
            if after is None:
                start = bisect.bisect_left(keys, prefix)
            else:
                start = bisect.bisect_right(keys, max(after, prefix))
            found = []
            for key in keys[start:]:
                if not key.startswith(prefix) or len(found) >= limit:
                    break
                found.append((key, self._data[cf][key]))
            return found

    def last_key(self, cf: str) -> bytes | None:
        """Return the greatest key, or None."""
        keys = self._keys[cf]
        return keys[-1] if keys else None

    def commit(self, ops: Sequence[Op], *, urgent: bool = True) -> Future[None]:
        """Apply the changes atomically and return a resolved future."""
        with self._lock:
            for cf, key, value in ops:
                self._apply(cf, key, value)
        done: Future[None] = Future()
        done.set_result(None)
        return done

    def close(self) -> None:
        """Nothing to release."""

    def _apply(self, cf: str, key: bytes, value: bytes | None) -> None:
        table, keys = self._data[cf], self._keys[cf]
        if value is None:
            if table.pop(key, None) is not None:
                keys.pop(bisect.bisect_left(keys, key))
            return
        if key not in table:
            bisect.insort(keys, key)
        table[key] = value
