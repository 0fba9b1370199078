"""The storage seam: what actors need from a key-value store."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Protocol

# One change: (column family, key, value); a value of None deletes the key.
Op = tuple[str, bytes, bytes | None]


class Store(Protocol):
    """Ordered key-value store with column families and durable batches."""

    def get(self, cf: str, key: bytes) -> bytes | None:
        """Return the committed value of a key, or None."""
        ...

    def get_many(self, cf: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """Return the committed values of several keys, in order."""
        ...

    def scan(
        self, cf: str, prefix: bytes, *, after: bytes | None = None, limit: int
    ) -> list[tuple[bytes, bytes]]:
        """Return up to limit items whose key starts with prefix, in key order.

        With ``after``, start at the first key greater than it.
        """
        ...

    def last_key(self, cf: str) -> bytes | None:
        """Return the greatest key of a column family, or None when empty."""
        ...

    def commit(self, ops: Sequence[Op], *, urgent: bool = True) -> Future[None]:
        """Queue changes as one atomic write; the future resolves once durable.

        A change that is not urgent may wait briefly to share a sync.
        """
        ...

    def close(self) -> None:
        """Flush pending commits and release the store."""
        ...
