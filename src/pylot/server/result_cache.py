"""ModelCache: results of deterministic requests, least-recently-used first out, each valid for a TTL."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

V = TypeVar("V")


T = TypeVar("T", int, float)


def _one_of(name: str, value: T | None, alias: str, alias_value: T | None, default: T) -> T:
    if value is not None and alias_value is not None:
        raise TypeError(f"give {name} or {alias}, not both (they are the same setting)")
    if value is not None:
        return value
    return alias_value if alias_value is not None else default


def cache_key(*parts: Any) -> str:
    """A stable key for any JSON-able request description."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    entries: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class ModelCache(Generic[V]):
    """A thread-safe LRU cache whose entries expire: `ModelCache(max_size=100, ttl=3600)`, then `set(key,
    value)` and `get(key)` (None when absent or expired). The TTL is checked on get, the size bounded
    on set. `max_entries` and `ttl_s` are the same two settings under the config file's names."""

    def __init__(
        self,
        max_size: int | None = None,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_entries: int | None = None,
        ttl_s: float | None = None,
    ) -> None:
        self.max_entries = _one_of("max_size", max_size, "max_entries", max_entries, 100)
        self.ttl_s = _one_of("ttl", ttl, "ttl_s", ttl_s, 3600.0)
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def max_size(self) -> int:
        return self.max_entries

    @property
    def ttl(self) -> float:
        return self.ttl_s

    def get(self, key: str) -> V | None:
        with self._lock:
            item = self._data.get(key)
            if item is None or self._clock() - item[0] > self.ttl_s:
                if item is not None:
                    del self._data[key]
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[1]

    def set(self, key: str, value: V) -> None:
        """Store `value`; past max_size the least recently used entry goes."""
        with self._lock:
            self._data[key] = (self._clock(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    put = set

    def resize(self, max_entries: int, ttl_s: float) -> None:
        with self._lock:
            self.max_entries, self.ttl_s = max_entries, ttl_s
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(len(self._data), self.hits, self.misses)

    def __len__(self) -> int:
        return len(self._data)
