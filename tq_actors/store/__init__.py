"""Storage: the Store protocol, its RocksDB and in-memory implementations."""

from tq_actors.store.memory import MemoryStore
from tq_actors.store.protocol import Op, Store
from tq_actors.store.rocks import RocksStore

__all__ = ["MemoryStore", "Op", "RocksStore", "Store"]
