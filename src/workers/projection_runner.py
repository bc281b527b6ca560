"""Runs one projection: follows the notification log and applies it page by page, exactly once.

Each page (up to `page_size` notifications after the tracked position) is read,
decoded, folded in memory and committed with the new position in one transaction
(`projection_store.select_page`, then `move_position`, which locks the position,
then the rows). Catching up, pages are full and large; live, a page is whatever
arrived since the last one. Between pages the runner waits on LISTEN
berth_events (the library NOTIFYs on each insert), with a short timeout as a
fallback, and lingers `linger` seconds after a wake-up so a burst of commands is
one page. One instance per projection is active; the others stand by on its
advisory lock.

A page that cannot be applied (a value the read model rejects, a fold that
raises) is narrowed down, by halves, to the first event that cannot: every
event before it is applied and tracked, then the runner records the failure
(`projection_failures`), stops advancing and tries that event again with
backoff, or at once when an operator retries it or records a skip for it. The
process stays up; health names the failure. Positions an operator skipped
(`projection_skips`) are passed over, live and in rebuilds alike. A broken
connection or an outage is not such a failure: it is raised as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Mapper, StoredEvent
from psycopg.pq import TransactionStatus

from berth import metrics
from berth.adapters.postgres import event_wakeups
from berth.adapters.postgres.standby_lock import StandbyLock
from berth.adapters.tracking import projection_failures, projection_store
from berth.adapters.tracking.projection_skips import Skips

log = logging.getLogger(__name__)

C = TypeVar("C")
PROGRESS_EVERY = 5.0  # seconds between progress lines while catching up
RETRY_FIRST = 1.0  # seconds before retrying a failed event, doubled per attempt ...
RETRY_MAX = 60.0  # ... up to this
# SQLSTATE classes of errors that say nothing about the event: connection lost,
# transaction rolled back (deadlock, serialization), resources, operator, system.
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


@dataclass(frozen=True)
class Projection(Generic[C]):
    """A projection's name, the topics it reads, its pure fold and its writer."""

    name: str
    topics: frozenset[str]
    fold: Callable[[Iterable[tuple[int, AggregateEvent]]], C]
    write: Callable[[psycopg.Cursor[Any], C], None]


@dataclass
class PageResult:
    notifications: int
    events: int
    position: int


class ApplyFailed(Exception):
    """The event at `position` cannot be applied; everything up to `reached` was."""

    def __init__(self, *, projection: str, position: int, reached: int, error: Exception) -> None:
        kind, message = projection_failures.describe(error)
        super().__init__(
            f"{projection} cannot apply the event at position {position}: {kind}: {message}"
        )
        self.projection = projection
        self.position = position
        self.reached = reached
        self.error = error


def is_transient(error: BaseException, conn: psycopg.Connection[Any]) -> bool:
    """Whether `error` is about the database or connection rather than the event applied."""
    if conn.broken or conn.closed or isinstance(error, psycopg.InterfaceError):
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    sqlstate = error.sqlstate
    return sqlstate is None or sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES


class ProjectionRunner(Generic[C]):
    def __init__(
        self,
        url: str,
        projection: Projection[C],
        mapper: Mapper[UUID],
        *,
        page_size: int = 5000,
        idle_timeout: float = 1.0,
        linger: float = 0.01,
        standby_poll: float = 0.5,
    ) -> None:
        self.url = url
        self.projection = projection
        self.mapper = mapper
        self.page_size = page_size
        self.idle_timeout = idle_timeout
        self.linger = linger
        self.standby_poll = standby_poll
        self.skips = Skips(projection.name, mapper)
        self.retry_first = RETRY_FIRST
        self.retry_max = RETRY_MAX

    # -- one page ------------------------------------------------------------

    def apply_page(
        self, conn: psycopg.Connection[Any], after: int, *, until: int | None = None
    ) -> PageResult:
        """Read, fold and commit the page after `after` (up to `until`, if given).

        One transaction: the page, the skips, the position's move (which locks it)
        and the rows. Raises PositionMoved, writing nothing, if it lost a race.
        """
        if conn.info.transaction_status != TransactionStatus.IDLE:
            # In an open transaction, the block below would be a mere savepoint and
            # the page would commit only with the caller's transaction, if ever.
            raise psycopg.ProgrammingError(
                f"projection {self.projection.name}: a page commits its own transaction;"
                " the connection is already in one"
            )
        with conn.transaction(), conn.cursor() as cur:
            page = projection_store.select_page(
                conn, after=after, limit=self.page_size, until=until
            )
            if not page:
                return PageResult(0, 0, after)
            skipped = self.skips.positions(conn)
            topics = self.projection.topics
            events = [
                (n.id, self._decode(n)) for n in page if n.topic in topics and n.id not in skipped
            ]
            changes = self.projection.fold(events)
            position = page[-1].id
            projection_store.move_position(
                cur,
                projection=self.projection.name,
                after=after,
                position=position,
                event_time=events[-1][1].timestamp if events else None,
            )
            self.projection.write(cur, changes)
        return PageResult(len(page), len(events), position)

    def _decode(self, notification: projection_store.Notification) -> AggregateEvent:
        event = self.mapper.to_domain_event(_stored(notification))
        if not isinstance(event, AggregateEvent):
            raise TypeError(f"notification {notification.id} is not an aggregate event: {event!r}")
        return event

    def advance(
        self, conn: psycopg.Connection[Any], after: int, *, until: int | None = None
    ) -> PageResult:
        """`apply_page`; if the page cannot be applied, apply all before its first bad event.

        Raises ApplyFailed (with what was reached) once that event is found;
        PositionMoved and transient database errors are raised as they come.
        """
        try:
            return self.apply_page(conn, after, until=until)
        except projection_store.PositionMoved:
            raise
        except Exception as error:
            if is_transient(error, conn):
                raise
            log.warning(
                "projection %s: the page after %d failed (%s); narrowing it down",
                self.projection.name, after, projection_failures.describe(error)[0],
            )  # fmt: skip
        return self._narrow(conn, after, until)

    def _narrow(self, conn: psycopg.Connection[Any], after: int, until: int | None) -> PageResult:
        page = projection_store.read_page(conn, after=after, limit=self.page_size, until=until)
        ids = [n.id for n in page]
        reached, applied = after, 0
        while ids:
            half = ids[: max(len(ids) // 2, 1)]
            try:
                self.apply_page(conn, reached, until=half[-1])
            except projection_store.PositionMoved:
                raise
            except Exception as error:
                if is_transient(error, conn):
                    raise
                if len(half) == 1:
                    raise ApplyFailed(
                        projection=self.projection.name,
                        position=half[0],
                        reached=reached,
                        error=error,
                    ) from error
                ids = half
                continue
            reached, applied = half[-1], applied + len(half)
            ids = ids[len(half) :]
        # The whole page applied in parts after all: the failure was not the events'.
        return PageResult(applied, 0, reached)

    def catch_up(self, conn: psycopg.Connection[Any]) -> int:
        """Apply pages until none is left; the position reached (ApplyFailed if stuck)."""
        position = projection_store.tracked_position(conn, self.projection.name)
        while True:
            result = self.advance(conn, position)
            if result.notifications == 0:
                return position
            position = result.position

    # -- the long-running loop -------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Stand by for the lock, then follow the log until `stop` is set."""
        name = self.projection.name
        lock = StandbyLock(self.url, f"projection:{name}")
        log.info("projection %s: standing by for its lock", name)
        if not lock.acquire(stop, poll=self.standby_poll):
            return
        try:
            log.info("projection %s: lock acquired, running", name)
            self._follow(lock, stop)
        finally:
            lock.release()
            log.info("projection %s: stopped", name)

    def _follow(self, lock: StandbyLock, stop: threading.Event) -> None:
        name = self.projection.name
        with (
            psycopg.connect(self.url, application_name=f"berth-worker:{name}") as conn,
            psycopg.connect(self.url, autocommit=True) as listener,
        ):
            event_wakeups.listen(listener)
            position = projection_store.tracked_position(conn, name)
            log.info("projection %s: starting after position %d", name, position)
            applied, last_report = 0, time.monotonic()
            failure = projection_failures.current(conn, name)  # left by a previous run
            retry_at = time.monotonic()  # a (re)started runner tries at once
            while not stop.is_set():
                if failure is not None and not self._time_to_retry(
                    conn=conn, listener=listener, lock=lock, stop=stop,
                    failure=failure, retry_at=retry_at,
                ):  # fmt: skip
                    continue
                try:
                    result = self.advance(conn, position)
                except projection_store.PositionMoved as moved:
                    log.warning("projection %s: %s; continuing from there", name, moved)
                    position = moved.actual
                    continue
                except ApplyFailed as failed:
                    position = failed.reached
                    failure = projection_failures.record(
                        conn, projection=name, position=failed.position, error=failed.error
                    )
                    metrics.PROJECTION_FAILURES.labels(name).inc()
                    delay = min(self.retry_first * 2 ** (failure.attempts - 1), self.retry_max)
                    retry_at = time.monotonic() + delay
                    log.error(
                        "projection %s: stopped at position %d: %s; retrying in %g s"
                        " (or `berth projection retry|skip %s %d`)",
                        name, position, failed, delay, name, failed.position,
                    )  # fmt: skip
                    continue
                if failure is not None and result.position >= failure.position:
                    projection_failures.clear(conn, projection=name)
                    log.info("projection %s: past position %d again", name, failure.position)
                    failure = None
                position = result.position
                applied += result.notifications
                now = time.monotonic()
                if applied and (now - last_report >= PROGRESS_EVERY or not result.notifications):
                    log.info(
                        "projection %s: applied %d notifications, at position %d",
                        name, applied, position,
                    )  # fmt: skip
                    applied, last_report = 0, now
                if result.notifications < self.page_size:
                    lock.check()
                    self._wait(listener, stop)

    def _time_to_retry(
        self,
        *,
        conn: psycopg.Connection[Any],
        listener: psycopg.Connection[Any],
        lock: StandbyLock,
        stop: threading.Event,
        failure: projection_failures.Failure,
        retry_at: float,
    ) -> bool:
        """Whether to try the failed event again now: backoff over, retried or skipped.

        Otherwise waits (for a wake-up, at most `idle_timeout`) and answers False.
        """
        if time.monotonic() >= retry_at:
            return True
        now = projection_failures.current(conn, self.projection.name)
        if now is None or now.position != failure.position:
            return True  # an operator retried it
        with conn.transaction():
            skipped = self.skips.positions(conn)
        if failure.position in skipped:
            return True  # an operator skipped it
        lock.check()
        remaining = retry_at - time.monotonic()
        event_wakeups.wait_for_events(
            listener, stop, timeout=max(min(remaining, self.idle_timeout), 0.0)
        )
        return False

    def _wait(self, listener: psycopg.Connection[Any], stop: threading.Event) -> None:
        # Lingering a moment after a wake-up makes a burst of commands one page
        # rather than a transaction per event: it costs at most `linger` of lag.
        event_wakeups.wait_for_events(listener, stop, timeout=self.idle_timeout, linger=self.linger)


def _stored(n: projection_store.Notification) -> StoredEvent:
    return StoredEvent(
        originator_id=n.originator_id,
        originator_version=n.originator_version,
        topic=n.topic,
        state=n.state,
    )
