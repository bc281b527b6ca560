"""Helpers for the Kafka relay tests: the relay in a thread, bookings, the store, the checks."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg

from berth.adapters.kafka.kafka_producer import KafkaSettings
from berth.adapters.kafka.kafka_records import aggregate_kind, event_id
from berth.adapters.tracking.projection_store import event_mapper
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.stay import Stay
from berth.workers.kafka_relay import NAME, KafkaRelay
from kafka_broker import KafkaBroker

FIRST_NIGHT = date(2030, 6, 10)


def settings(broker: KafkaBroker, *, timeout_ms: int = 10_000) -> KafkaSettings:
    return KafkaSettings(
        bootstrap=broker.bootstrap,
        request_timeout_ms=timeout_ms,
        delivery_timeout_ms=2 * timeout_ms,
    )


@contextlib.contextmanager
def relay_running(url: str, config: KafkaSettings, *, page_size: int = 100) -> Iterator[None]:
    """The relay in a thread, stopped (and joined) on leaving."""
    relay = KafkaRelay(
        url, config, event_mapper(), page_size=page_size, idle_timeout=0.2, standby_poll=0.1,
        first_backoff=0.2, max_backoff=1.0,
    )  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), name="kafka-relay")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the relay did not stop"


class Bookings:
    """Booking commands on one pool, each a few events (held, reference, nights, confirmed)."""

    def __init__(self, app: Reservations) -> None:
        self.app = app
        self.count = 0
        facility = app.register_facility(name="Marina", time_zone="UTC", cause=cause()).id
        self.pool = app.add_pool(
            facility_id=facility, name="Berths", capacity=100_000, nightly_price=2500,
            currency="EUR", cause=cause(),
        ).id  # fmt: skip

    def book(self, n: int = 1) -> None:
        for _ in range(n):
            i = self.count
            self.count += 1
            arrival = FIRST_NIGHT + timedelta(days=i % 10)
            held = self.app.hold(
                pool_id=self.pool, stay=Stay(arrival, arrival + timedelta(days=1 + i % 2)),
                quantity=1, guest={"name": f"guest {i}"}, cause=cause(f"req-{i}"),
            )  # fmt: skip
            if i % 2 == 0:
                self.app.confirm(booking_id=held.id, cause=cause(f"req-{i}-confirm"))


def cause(correlation_id: str = "setup") -> Cause:
    return Cause(principal="test", channel="web", request_id="r", correlation_id=correlation_id)


def stored_events(url: str) -> list[tuple[int, UUID, int, str]]:
    """(position, aggregate id, version, topic) of every event, in store order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic"
            " FROM berth_events ORDER BY notification_id"
        ).fetchall()
    return [(int(n), o, int(v), t) for n, o, v, t in rows]


def relay_position(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT position FROM relay_positions WHERE relay = %s", (NAME,)
        ).fetchone()
    return int(row[0]) if row else 0


def wait_until_relayed(url: str, *, timeout: float = 30.0) -> None:
    """Until the relay's tracked position reaches the head of the store."""
    head = stored_events(url)[-1][0]
    deadline = time.monotonic() + timeout
    while relay_position(url) < head:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the relay is at {relay_position(url)}, the store at {head}")
        time.sleep(0.05)


def assert_every_event_published(url: str, records: list[Any], *, prefix: str = "berth.") -> int:
    """Every stored event is among `records`, and `records` hold nothing else.

    Checks, for a consumer that deduplicates on the event-id header: each event's
    first copy comes in its aggregate's version order; every copy of an event is
    byte-for-byte the same record on the same topic and partition; the headers
    and the JSON value agree with the store. Answers how many duplicates there were.
    """
    stored = stored_events(url)
    expected = {event_id(o, v): (n, o, v, t) for n, o, v, t in stored}
    first: dict[UUID, Any] = {}
    versions_seen: dict[bytes, list[int]] = defaultdict(list)
    placed: dict[bytes, tuple[str, int]] = {}
    duplicates = 0
    for record in records:
        headers = {k: v for k, v in record.headers}
        identity = UUID(headers["event-id"].decode())
        assert identity in expected, f"a record of no stored event: {headers}"
        if identity in first:
            earlier = first[identity]
            assert (record.topic, record.partition, record.key, record.value, record.headers) == (
                earlier.topic, earlier.partition, earlier.key, earlier.value, earlier.headers
            ), f"two different records for event {identity}"  # fmt: skip
            duplicates += 1
            continue
        first[identity] = record
        position, aggregate_id, version, topic = expected[identity]
        assert record.topic == prefix + aggregate_kind(topic)
        assert record.key == str(aggregate_id).encode()
        assert headers["version"] == str(version).encode()
        assert headers["position"] == str(position).encode()
        assert headers["event-type"] == topic.partition(":")[2].encode()
        assert headers["content-type"] == b"application/json"
        value = json.loads(record.value)
        assert value["event_id"] == str(identity)
        assert (value["aggregate_id"], value["version"], value["position"]) == (
            str(aggregate_id), version, position
        )  # fmt: skip
        assert headers["correlation-id"] == value["cause"]["correlation_id"].encode()
        versions_seen[record.key].append(version)
        where = placed.setdefault(record.key, (record.topic, record.partition))
        assert where == (record.topic, record.partition), f"{record.key!r} on two partitions"
    missing = [expected[i] for i in expected.keys() - first.keys()]
    assert not missing, f"{len(missing)} events never published, first {sorted(missing)[:3]}"
    for key, versions in versions_seen.items():
        assert versions == list(range(1, len(versions) + 1)), f"{key!r} out of order: {versions}"
    return duplicates
