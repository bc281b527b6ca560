"""Runs one projection: follows the notification log and applies it page by page, exactly once.

Each page (up to `page_size` notifications after the tracked position) is
decoded, folded in memory and committed with the new position in one
transaction (`projection_store.commit_page`). Catching up, pages are full and
large; live, a page is whatever arrived since the last one. Between pages the
runner waits on LISTEN berth_events (the library NOTIFYs on each insert), with a
short timeout as a fallback, and lingers `linger` seconds after a wake-up so a
burst of commands is one page. One instance per projection is active; the
others stand by on its advisory lock.
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

from berth.adapters import event_wakeups, projection_store
from berth.adapters.standby_lock import StandbyLock

log = logging.getLogger(__name__)

C = TypeVar("C")
PROGRESS_EVERY = 5.0  # seconds between progress lines while catching up


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

    # -- one page ------------------------------------------------------------

    def apply_page(
        self, conn: psycopg.Connection[Any], after: int, *, until: int | None = None
    ) -> PageResult:
        """Read, fold and commit the page after `after` (up to `until`, if given).

        Raises PositionMoved, writing nothing, if it lost a race.
        """
        page = projection_store.read_page(conn, after=after, limit=self.page_size, until=until)
        if not page:
            return PageResult(0, 0, after)
        events = [(n.id, self._decode(n)) for n in page if n.topic in self.projection.topics]
        changes = self.projection.fold(events)
        position = page[-1].id
        projection_store.commit_page(
            conn,
            projection=self.projection.name,
            after=after,
            position=position,
            event_time=events[-1][1].timestamp if events else None,
            write=lambda cur: self.projection.write(cur, changes),
        )
        return PageResult(len(page), len(events), position)

    def _decode(self, notification: projection_store.Notification) -> AggregateEvent:
        event = self.mapper.to_domain_event(_stored(notification))
        if not isinstance(event, AggregateEvent):
            raise TypeError(f"notification {notification.id} is not an aggregate event: {event!r}")
        return event

    def catch_up(self, conn: psycopg.Connection[Any]) -> int:
        """Apply pages until none is left; the position reached."""
        position = projection_store.tracked_position(conn, self.projection.name)
        while True:
            result = self.apply_page(conn, position)
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
            while not stop.is_set():
                try:
                    result = self.apply_page(conn, position)
                except projection_store.PositionMoved as moved:
                    log.warning("projection %s: %s; continuing from there", name, moved)
                    position = moved.actual
                    continue
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
