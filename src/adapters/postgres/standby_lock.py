"""One active instance per worker: a PostgreSQL session advisory lock on a dedicated connection.

The lock lives as long as the connection. When the holder dies, however it dies,
the server ends its session and the lock goes to the next instance that asks;
until then the others stand by, asking again every `poll` seconds. The holder
checks that its session is still there between pages, at most once every
`check_every` seconds (a round trip each time); a page applied meanwhile by a
holder that lost its lock is still applied once, by the position's check.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import psycopg


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, from the worker's name."""
    digest = hashlib.sha256(f"berth-worker:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class StandbyLock:
    def __init__(self, url: str, name: str, *, check_every: float = 1.0) -> None:
        self.url = url
        self.name = name
        self.key = lock_key(name)
        self.check_every = check_every
        self._conn: psycopg.Connection[Any] | None = None
        self._checked = float("-inf")  # when the session last answered a check

    def acquire(self, stop: threading.Event, *, poll: float = 0.5) -> bool:
        """Wait until this instance holds the lock (True) or `stop` is set (False)."""
        conn = psycopg.connect(
            self.url, autocommit=True, application_name=f"berth-lock:{self.name}"
        )
        try:
            while not stop.is_set():
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                if row is not None and row[0]:
                    self._conn = conn
                    return True
                stop.wait(poll)
        except BaseException:
            conn.close()
            raise
        conn.close()
        return False

    def check(self) -> None:
        """Raise psycopg.OperationalError if the lock's session has gone (looked at
        once every `check_every` seconds at most)."""
        if self._conn is None:
            raise psycopg.OperationalError(f"the {self.name} lock is not held")
        if time.monotonic() - self._checked < self.check_every:
            return
        self._conn.execute("SELECT 1")
        self._checked = time.monotonic()

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ends the session, and with it the lock
            self._conn = None
