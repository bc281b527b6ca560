"""One active instance per worker: a PostgreSQL session advisory lock on a dedicated connection.

The lock lives as long as the connection. When the holder dies, however it dies,
the server ends its session and the lock goes to the next instance that asks;
until then the others stand by, asking again every `poll` seconds.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import psycopg


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, from the worker's name."""
    digest = hashlib.sha256(f"berth-worker:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class StandbyLock:
    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self.key = lock_key(name)
        self._conn: psycopg.Connection[Any] | None = None

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
        """Raise psycopg.OperationalError if the lock's session has gone."""
        if self._conn is None:
            raise psycopg.OperationalError(f"the {self.name} lock is not held")
        self._conn.execute("SELECT 1")

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ends the session, and with it the lock
            self._conn = None
