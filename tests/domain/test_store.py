"""Stores: the RocksDB and in-memory stores order, scan and commit alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tq_actors.store import MemoryStore, RocksStore, Store
from tq_actors.store import keys as k


@pytest.fixture(params=["memory", "rocks"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else RocksStore(tmp_path)
    yield made
    made.close()


def test_big_endian_keys_sort_numerically() -> None:
    values = [0, 1, 255, 256, 2**32, 2**63]
    assert sorted(values, key=k.u64) == values
    assert [k.read_u64(k.u64(v)) for v in values] == values


def test_a_scan_returns_only_its_prefix_in_key_order(store: Store) -> None:
    ops = [("idx_status", k.small(s) + k.u64(n), b"x") for s in (1, 2) for n in (3, 1)]
    store.commit(ops).result()
    found = store.scan("idx_status", k.small(1), limit=10)
    assert [key for key, _ in found] == [k.small(1) + k.u64(1), k.small(1) + k.u64(3)]


def test_a_scan_resumes_after_a_key(store: Store) -> None:
    store.commit([("idx_created", k.u64(n), b"v") for n in range(1, 6)]).result()
    page = store.scan("idx_created", b"", after=k.u64(2), limit=2)
    assert [k.read_u64(key) for key, _ in page] == [3, 4]
    assert store.last_key("idx_created") == k.u64(5)


def test_a_commit_applies_puts_and_deletes_together(store: Store) -> None:
    store.commit([("tasks", b"a", b"1"), ("tasks", b"b", b"2")]).result()
    store.commit([("tasks", b"a", None), ("tasks", b"c", b"3")]).result()
    assert store.get_many("tasks", [b"a", b"b", b"c"]) == [None, b"2", b"3"]


def test_rocks_store_keeps_commits_across_reopen(tmp_path: Path) -> None:
    first = RocksStore(tmp_path)
    first.commit([("meta", b"event_seq", k.u64(7))]).result()
    first.close()
    second = RocksStore(tmp_path)
    try:
        assert second.get("meta", b"event_seq") == k.u64(7)
    finally:
        second.close()


def test_many_concurrent_commits_share_batches(tmp_path: Path) -> None:
    store = RocksStore(tmp_path)
    try:
        tickets = [store.commit([("tasks", k.u64(n), b"v")]) for n in range(2000)]
        for ticket in tickets:
            ticket.result(timeout=10)
        assert store.batches_written < 2000
        assert len(store.scan("tasks", b"", limit=5000)) == 2000
    finally:
        store.close()
