"""PostgreSQL advisory locks per (pool, night), the adapter behind the domain's NightLock.

Taken in key order on a connection of their own around read-check-save, they
turn a hot night's version conflicts into a short queue. The version check on
save stays in place as the safety net.

The locks belong to the connection's session. If that connection dies while
they are held (the server restarted, the network dropped), the locks are gone
with it: releasing them cannot fail the command, which may already have
committed on its own connection. The dead connection is closed, and the pool
replaces it.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from berth.adapters.postgres.database import Timeouts, request_pool

log = logging.getLogger(__name__)


def advisory_key(key: UUID) -> int:
    """A signed 64-bit key for pg_advisory_lock, from the first half of a UUID."""
    return int.from_bytes(key.bytes[:8], "big", signed=True)


class AdvisoryNightLock:
    def __init__(self, url: str, *, max_size: int = 16, timeouts: Timeouts | None = None) -> None:
        self.pool: ConnectionPool = request_pool(url, max_size=max_size, timeouts=timeouts)

    @contextmanager
    def __call__(self, keys: Sequence[UUID], /) -> Iterator[None]:
        if not keys:
            yield
            return
        with self.pool.connection() as conn:
            try:
                for key in sorted(keys):
                    conn.execute("SELECT pg_advisory_lock(%s)", (advisory_key(key),))
                yield
            finally:
                _unlock_all(conn)

    def close(self) -> None:
        self.pool.close()


def _unlock_all(conn: psycopg.Connection[object]) -> None:
    try:
        conn.execute("SELECT pg_advisory_unlock_all()")
    except psycopg.OperationalError as error:
        # The session is gone, and its locks with it.
        log.warning("night lock: connection lost while holding locks (%s); discarding it", error)
        conn.close()
