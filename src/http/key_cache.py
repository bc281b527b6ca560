"""A bounded, least-recently-used cache of verified keys that unknown tokens cannot flush.

Only keys that verified are kept here; a token that did not verify goes to a
separate, smaller cache of refusals. A stream of random tokens therefore only
churns the refusals, and never evicts a valid key. Each entry is trusted for
`ttl` seconds from when it was looked up, on the clock it is handed (an entry
from a time after "now", after the clock went back, counts as expired too), so a
revoked or rotated key stops working in every process within `ttl`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringLru(Generic[V]):
    """At most `size` entries; the least recently used goes first when full."""

    def __init__(self, *, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str, *, now: float) -> tuple[bool, V | None]:
        """(True, value) if `key` holds a live entry, else (False, None)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            stored_at, value = entry
            if not stored_at <= now < stored_at + self.ttl:
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, value

    def put(self, key: str, value: V, *, now: float) -> None:
        if self.ttl <= 0 or self.size <= 0:
            return
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
