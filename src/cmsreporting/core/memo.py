"""One per-process cache for every memory the service keeps between requests.

A `Memo` is bounded (least recently used first out) and thread-safe; with `seconds` each entry
is also forgotten that long after it was put. Its users and their delays (README,
"Configuration"): callers by token digest (`auth_cache_seconds`), published template rows
(`template_cache_seconds`), template documents and question indexes by content digest, rendered
template JSON and summaries, and compiled projection plans (these last never go stale: their
keys name the content they were built from).

Each memo counts its hits and misses under its `name`; `memos()` lists the live ones (the
metrics read them).
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_live: weakref.WeakSet[Memo[Any, Any]] = weakref.WeakSet()


def memos() -> list[Memo[Any, Any]]:
    """The memos of this process."""
    return list(_live)


class Memo(Generic[K, V]):
    """At most `size` entries, each for at most `seconds` if given."""

    def __init__(self, size: int, seconds: float | None = None, *, name: str = "other") -> None:
        self.size = size
        self.seconds = seconds
        self.name = name
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = Lock()
        _live.add(self)

    def get(self, key: K) -> V | None:
        """The value kept under `key`, if any and still fresh."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            if self.seconds is not None and entry[0] < time.monotonic():
                del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: K, value: V) -> V:
        """Keep `value` under `key` (the oldest entries go beyond `size`); returns it."""
        until = time.monotonic() + self.seconds if self.seconds is not None else 0.0
        with self._lock:
            self._entries[key] = (until, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def forget(self, key: K) -> None:
        """Drop one entry."""
        with self._lock:
            self._entries.pop(key, None)

    def forget_where(self, drop: Callable[[V], bool]) -> int:
        """Drop every entry whose value `drop` selects; how many were dropped."""
        with self._lock:
            keys = [key for key, (_, value) in self._entries.items() if drop(value)]
            for key in keys:
                del self._entries[key]
        return len(keys)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
