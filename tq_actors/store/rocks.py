"""RocksDB Store through rocksdict, with synced group commit.

One committer thread drains every queued change set into a single
``WriteBatch`` and syncs the write-ahead log: many changes share one fsync,
and no caller hears of a change before its batch is on disk.

A change nobody is waiting on (``urgent=False``: a task starting or ending)
may wait up to ``LINGER_SECONDS`` for company, so that a busy queue pays one
fsync for many transitions; an urgent change ends the wait at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

from rocksdict import Options, Rdict, ReadOptions, WriteBatch, WriteOptions

from tq_actors.store.keys import COLUMN_FAMILIES
from tq_actors.store.protocol import Op

logger = logging.getLogger(__name__)

_STOP = object()
LINGER_SECONDS = 0.005


def _options() -> Options:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    return options


class RocksStore:
    """A Store on one RocksDB directory."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._db = Rdict(
            str(path),
            options=_options(),
            column_families={cf: Options(raw_mode=True) for cf in COLUMN_FAMILIES},
        )
        self._cfs = {cf: self._db.get_column_family(cf) for cf in COLUMN_FAMILIES}
        self._handles = {
            cf: self._db.get_column_family_handle(cf) for cf in COLUMN_FAMILIES
        }
        self._write_options = WriteOptions()
        self._write_options.sync = False
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._committer = threading.Thread(
            target=self._commit_loop, name="store-committer", daemon=True
        )
        self._committer.start()
        self.batches_written = 0

    def get(self, cf: str, key: bytes) -> bytes | None:
        """Return the committed value of a key, or None."""
        value: bytes | None = self._cfs[cf].get(key)
        return value

    def get_many(self, cf: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """Return the committed values of several keys, in order."""
        if not keys:
            return []
        values: list[bytes | None] = self._cfs[cf].get(list(keys))
        return values

    def scan(
        self, cf: str, prefix: bytes, *, after: bytes | None = None, limit: int
    ) -> list[tuple[bytes, bytes]]:
        """Return up to limit items under prefix, in key order."""
        it = self._cfs[cf].iter(ReadOptions())
        try:
            it.seek(prefix if after is None else max(after, prefix))
            if after is not None and it.valid() and it.key() == after:
                it.next()
            found = []
            while it.valid() and len(found) < limit:
                key = it.key()
                if not key.startswith(prefix):
                    break
                found.append((key, it.value()))
                it.next()
            return found
        finally:
            del it

    def last_key(self, cf: str) -> bytes | None:
        """Return the greatest key of a column family, or None."""
        it = self._cfs[cf].iter(ReadOptions())
        try:
            it.seek_to_last()
            return it.key() if it.valid() else None
        finally:
            del it

    def commit(self, ops: Sequence[Op], *, urgent: bool = True) -> Future[None]:
        """Queue changes for the next synced batch."""
        future: Future[None] = Future()
        self._queue.put((ops, future, urgent))
        return future

    def close(self) -> None:
        """Write what is queued, stop the committer and release the lock."""
        self._queue.put(_STOP)
        self._committer.join()
        self._cfs.clear()
        self._handles.clear()
        self._db.close()

    def _commit_loop(self) -> None:
        while True:
            pending, stopping = self._gather()
            if pending:
                self._write(pending)
            if stopping:
                return

    def _gather(self) -> tuple[list[tuple[Sequence[Op], Future[None]]], bool]:
        """Wait for work; return the change sets of the next batch."""
        pending: list[tuple[Sequence[Op], Future[None]]] = []
        item = self._queue.get()
        deadline = time.monotonic() + LINGER_SECONDS
        while True:
            if item is _STOP:
                return pending, True
            ops, future, urgent = item  # type: ignore[misc]
            pending.append((ops, future))
            try:
                if urgent:
                    deadline = 0.0
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    item = self._queue.get(timeout=remaining)
                else:
                    item = self._queue.get_nowait()
            except queue.Empty:
                return pending, False

    def _write(self, pending: list[tuple[Sequence[Op], Future[None]]]) -> None:
        batch = WriteBatch(raw_mode=True)
        handles = self._handles
        for ops, _ in pending:
            for cf, key, value in ops:
                if value is None:
                    batch.delete(key, handles[cf])
                else:
                    batch.put(key, value, handles[cf])
        try:
            # rocksdict 0.3.29 holds the GIL through a synced write's fsync,
            # stalling every other thread; flush_wal(sync) releases it. An
            # unsynced write followed by a synced WAL flush is as durable.
            self._db.write(batch, self._write_options)
            self._db.flush_wal(True)
        except Exception as exc:
            logger.exception("Store: a batch of %d change sets failed", len(pending))
            for _, future in pending:
                future.set_exception(exc)
            return
        self.batches_written += 1
        for _, future in pending:
            future.set_result(None)
