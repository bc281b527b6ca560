"""PostgreSQL advisory locks per (pool, night), the adapter behind the domain's NightLock.

Taken in key order around read-check-save, they turn a hot night's version
conflicts into a short queue. The version check on save stays in place as the
safety net.

`TransactionNightLock`, the one the application uses, takes them as transaction
locks in the command's own transaction (BerthRecorder.command_transaction), in
the round trip that begins it, and brings the cached aggregates it locks up to
date from the events that round trip read: under the locks nothing else can
change them, so the command reads them without another query. The aggregates
the command names as read (its booking, its pool) and those the thread read
just before are read in the same round trip: their versions then are current in
the transaction (`BerthRecorder.select_events`), and a read of them in it asks
the store for nothing. The commit or rollback releases the locks.

`AdvisoryNightLock` takes them as session locks on a connection of their own.

The locks belong to the connection's session. If that connection dies while
they are held (the server restarted, the network dropped), the locks are gone
with it: releasing them cannot fail the command, which may already have
committed on its own connection. The dead connection is closed, and the pool
replaces it.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from copy import deepcopy
from itertools import groupby
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application, project_aggregate
from psycopg_pool import ConnectionPool

from berth.adapters.postgres.database import Timeouts, request_pool
from berth.adapters.postgres.group_commit import BatchCache

if TYPE_CHECKING:
    from berth.adapters.postgres.eventstore import BerthRecorder

log = logging.getLogger(__name__)


def advisory_key(key: UUID) -> int:
    """A signed 64-bit key for pg_advisory_lock, from the first half of a UUID."""
    return int.from_bytes(key.bytes[:8], "big", signed=True)


class TransactionNightLock:
    def __init__(self, application: Application[UUID], recorder: "BerthRecorder") -> None:
        self.application = application
        self.recorder = recorder

    @contextmanager
    def __call__(self, keys: Sequence[UUID], /, read: Sequence[UUID] = ()) -> Iterator[None]:
        cache = self.application.repository.cache
        cached: dict[UUID, Any] = {}
        # (an id may come as text from a caller that did not parse it)
        read = [*keys, *(UUID(str(k)) for k in read), *self.recorder.take_recent_reads()]
        for key in read if cache is not None else ():
            try:
                cached[key] = cache.get(key)  # type: ignore[union-attr]
            except KeyError:
                continue
        ordered = sorted(set(keys))
        # Those the process has not cached are read whole in the same round trip (their
        # latest snapshot and the events after it), rebuilt and cached.
        uncached = [k for k in dict.fromkeys(read) if k not in cached] if cache is not None else []
        with self.recorder.command_transaction(
            [advisory_key(key) for key in ordered],
            [(key, aggregate.version) for key, aggregate in cached.items()],
            uncached,
        ) as (new_events, wholes):
            mapper = self.application.mapper
            for key, stored in groupby(new_events, key=lambda e: e.originator_id):
                self._bring_up_to_date(key, [mapper.to_domain_event(e) for e in stored])
            for key, stored_whole in wholes.items():
                rebuilt = project_aggregate(None, [mapper.to_domain_event(e) for e in stored_whole])
                if rebuilt is not None and cache is not None:
                    cache.put(key, rebuilt)
            yield

    def _bring_up_to_date(self, key: UUID, events: list[Any]) -> None:
        """Replace the cached aggregate by a copy with `events` applied.

        The library fast-forwards a cached aggregate in place, under a lock of its
        own per aggregate, when any thread of this process reads it: the cached
        object may have moved on since its version was read before the locks. So
        the copy is taken under that lock, and the events it already has are skipped.
        """
        repository = self.application.repository
        cache = repository.cache
        if cache is None:
            return
        if isinstance(cache, BatchCache) and cache.in_turn():
            try:
                aggregate = cache.get(key)  # the command's own copy (in a group commit)
            except KeyError:
                return
        else:
            fastforward_lock = repository._use_fastforward_lock(key)
            try:
                with fastforward_lock:
                    try:
                        aggregate = deepcopy(cache.get(key))
                    except KeyError:
                        return  # evicted: the next read rebuilds it from the store
            finally:
                repository._disuse_fastforward_lock(key)
        new = [event for event in events if event.originator_version > aggregate.version]
        projected = project_aggregate(aggregate, new)
        if projected is not None:
            cache.put(key, projected)

    def close(self) -> None:
        """Nothing to close: the locks live in the command's transaction."""


class AdvisoryNightLock:
    def __init__(self, url: str, *, max_size: int = 16, timeouts: Timeouts | None = None) -> None:
        self.pool: ConnectionPool = request_pool(url, max_size=max_size, timeouts=timeouts)

    @contextmanager
    def __call__(self, keys: Sequence[UUID], /, read: Sequence[UUID] = ()) -> Iterator[None]:
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
