"""PostgreSQL advisory locks per (pool, night), the adapter behind the domain's NightLock.

Taken in key order on a connection of their own around read-check-save, they
turn a hot night's version conflicts into a short queue. The version check on
save stays in place as the safety net.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

from psycopg_pool import ConnectionPool


def advisory_key(key: UUID) -> int:
    """A signed 64-bit key for pg_advisory_lock, from the first half of a UUID."""
    return int.from_bytes(key.bytes[:8], "big", signed=True)


class AdvisoryNightLock:
    def __init__(self, url: str, *, max_size: int = 16) -> None:
        self.pool: ConnectionPool = ConnectionPool(
            url, min_size=1, max_size=max_size, kwargs={"autocommit": True}, open=True
        )

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
                conn.execute("SELECT pg_advisory_unlock_all()")

    def close(self) -> None:
        self.pool.close()
