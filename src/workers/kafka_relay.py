"""Publishes every domain event to Kafka, in store order, and remembers how far it got.

The loop: read a page of the notification log after the tracked position, turn
it into records (`kafka_records`), send the page (`kafka_producer`), and advance
the position in `relay_positions` only once the broker has acknowledged every
record of it. While one page waits for its acknowledgements the next is read and
sent (`pipeline` pages in flight), and positions still advance in page order.
A crash or a SIGKILL anywhere leaves the position at the last acknowledged page,
so the next run publishes the pages in flight again: nothing is lost, and the
duplicates carry the same event ids. A broker that fails or does not answer
fails the pages in flight; the relay throws its producer away, backs off (0.5 s
doubling to 30 s) and sends them again from the acknowledged position, for as
long as it takes.

Live, the relay waits on LISTEN berth_events between pages. One instance is
active; others stand by on its advisory lock. Without BERTH_KAFKA_BOOTSTRAP
Berth runs without Kafka: the worker says so and idles until stopped, so a
Procfile or supervisor that lists it is not upset by an exit.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper

from berth.adapters.kafka import relay_positions
from berth.adapters.kafka.kafka_producer import (
    BOOTSTRAP_VAR,
    InFlight,
    KafkaPublisher,
    KafkaSettings,
    PublishFailed,
    PublishInterrupted,
)
from berth.adapters.kafka.kafka_records import to_record
from berth.adapters.postgres import event_wakeups
from berth.adapters.postgres.standby_lock import StandbyLock
from berth.adapters.tracking.projection_store import Notification, event_mapper, read_page

log = logging.getLogger(__name__)

NAME = "kafka-relay"
PAGE_SIZE_VAR = "BERTH_KAFKA_RELAY_PAGE_SIZE"
PROGRESS_EVERY = 5.0  # seconds between progress lines


class KafkaRelay:
    def __init__(
        self,
        url: str,
        settings: KafkaSettings,
        mapper: Mapper[UUID],
        *,
        page_size: int = 2000,
        pipeline: int = 2,
        idle_timeout: float = 1.0,
        standby_poll: float = 0.5,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.url = url
        self.settings = settings
        self.mapper = mapper
        self.page_size = page_size
        self.pipeline = pipeline
        self.idle_timeout = idle_timeout
        self.standby_poll = standby_poll
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff

    def run(self, stop: threading.Event) -> None:
        """Stand by for the lock, then relay until `stop` is set."""
        lock = StandbyLock(self.url, NAME)
        log.info("%s: standing by for its lock", NAME)
        if not lock.acquire(stop, poll=self.standby_poll):
            return
        publisher = KafkaPublisher(self.settings)
        try:
            log.info("%s: lock acquired, publishing to %s", NAME, self.settings.bootstrap)
            self._follow(lock, publisher, stop)
        finally:
            publisher.close()
            lock.release()
            log.info("%s: stopped", NAME)

    def _follow(self, lock: StandbyLock, publisher: KafkaPublisher, stop: threading.Event) -> None:
        with (
            psycopg.connect(self.url, application_name=f"berth-worker:{NAME}") as conn,
            psycopg.connect(self.url, autocommit=True) as listener,
        ):
            event_wakeups.listen(listener)
            committed = relay_positions.tracked_position(conn, NAME)
            log.info(
                "%s: resuming after position %d (head %d)",
                NAME, committed, relay_positions.head(conn),
            )  # fmt: skip
            progress = _Progress(conn)
            sent_to = committed  # pages up to here are sent; up to `committed`, acknowledged
            in_flight: deque[_Page] = deque()
            failures = 0
            while not stop.is_set():
                try:
                    if len(in_flight) < self.pipeline:
                        page = read_page(conn, after=sent_to, limit=self.page_size)
                        if page:
                            in_flight.append(self._send(publisher, page))
                            sent_to = page[-1].id
                            continue  # read and send ahead while the oldest page is on its way
                    if not in_flight:
                        progress.report(committed, force=True)
                        lock.check()
                        self._wait(listener, stop)
                        continue
                    oldest = in_flight.popleft()
                    publisher.wait(oldest.batch, stop)
                except PublishInterrupted:
                    log.info("%s: stopping with events after %d unacknowledged", NAME, committed)
                    return
                except PublishFailed as failure:
                    failures += 1
                    delay = min(self.max_backoff, self.first_backoff * 2 ** (failures - 1))
                    log.warning(
                        "%s: events after position %d not published (attempt %d): %s;"
                        " retrying in %.1f s",
                        NAME, committed, failures, failure, delay,
                    )  # fmt: skip
                    in_flight.clear()
                    sent_to = committed
                    stop.wait(delay)
                    continue
                if failures:
                    log.info("%s: publishing again after %d failed attempts", NAME, failures)
                    failures = 0
                try:
                    relay_positions.advance(
                        conn, relay=NAME, after=committed, position=oldest.position,
                        event_time=oldest.event_time,
                    )  # fmt: skip
                except relay_positions.RelayPositionMoved as moved:
                    log.warning("%s: %s; continuing from there", NAME, moved)
                    in_flight.clear()
                    committed = sent_to = moved.actual
                    continue
                committed = oldest.position
                progress.published(oldest.count, committed)
            self._drain(conn, publisher, in_flight, committed, stop)

    def _drain(
        self,
        conn: psycopg.Connection[Any],
        publisher: KafkaPublisher,
        in_flight: deque[_Page],
        committed: int,
        stop: threading.Event,
    ) -> None:
        """On stopping, record the pages already sent once acknowledged (within the grace)."""
        for page in in_flight:
            try:
                publisher.wait(page.batch, stop)
                relay_positions.advance(
                    conn, relay=NAME, after=committed, position=page.position,
                    event_time=page.event_time,
                )  # fmt: skip
            except (PublishFailed, relay_positions.RelayPositionMoved) as failure:
                log.info(
                    "%s: stopping with events after %d unacknowledged: %s", NAME, committed, failure
                )
                return
            committed = page.position
        log.info("%s: stopping at position %d", NAME, committed)

    def _send(self, publisher: KafkaPublisher, page: list[Notification]) -> _Page:
        records = [to_record(n, self.mapper, prefix=self.settings.topic_prefix) for n in page]
        return _Page(publisher.send(records), page[-1].id, records[-1].timestamp, len(records))

    def _wait(self, listener: psycopg.Connection[Any], stop: threading.Event) -> None:
        event_wakeups.wait_for_events(listener, stop, timeout=self.idle_timeout)


@dataclass(frozen=True)
class _Page:
    """A page sent to the broker, its last position, the time of its last event, its size."""

    batch: InFlight
    position: int
    event_time: datetime | None
    count: int


class _Progress:
    """Log lines every PROGRESS_EVERY seconds while publishing: count, rate, position, head."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.count = 0
        self.since = time.monotonic()

    def published(self, count: int, position: int) -> None:
        self.count += count
        self.report(position)

    def report(self, position: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.count or (now - self.since < PROGRESS_EVERY and not force):
            return
        log.info(
            "%s: published %d events (%.0f/s), at position %d of %d",
            NAME, self.count, self.count / max(now - self.since, 1e-6), position,
            relay_positions.head(self.conn),
        )  # fmt: skip
        self.count, self.since = 0, now


def run(url: str, stop: threading.Event) -> None:
    """`berth worker kafka-relay`: settings from the environment, or idle without Kafka."""
    settings = KafkaSettings.from_environ()
    if settings is None:
        log.info("%s: %s is not set: Berth runs without Kafka; idling", NAME, BOOTSTRAP_VAR)
        while not stop.wait(60.0):
            pass
        return
    page_size = int(os.environ.get(PAGE_SIZE_VAR) or 2000)
    KafkaRelay(url, settings, event_mapper(), page_size=page_size).run(stop)
