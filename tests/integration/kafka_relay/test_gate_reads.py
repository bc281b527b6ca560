"""The gate-reads worker: plate reads from a Kafka topic become recorded reads and arrivals."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from kafka import KafkaProducer

from berth.adapters.kafka import kafka_consumer
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from berth.domain.booking import Status
from berth.domain.cause import Cause
from berth.domain.plate_read import PlateRead
from berth.domain.stay import Stay
from berth.workers import gate_reads, run_worker
from kafka_broker import KafkaBroker

TOPIC = "test.gate-reads"
CAUSE = Cause(principal="test", channel="ops", request_id="r", correlation_id="c")


@pytest.fixture
def site(app: Reservations) -> dict[str, Any]:
    """An entry gate and a confirmed, paid booking for plate KF-01 staying today."""
    facility = app.register_facility(name="Kafka car park", time_zone="UTC", cause=CAUSE).id
    pool = app.add_pool(
        facility_id=facility, name="p", capacity=5, nightly_price=0, currency="EUR", cause=CAUSE
    ).id
    gate = app.add_gate(facility_id=facility, name="in", direction="entry", cause=CAUSE).id
    today = datetime.now(UTC).date()
    booking = app.hold(
        pool_id=pool, stay=Stay(today, today + timedelta(days=1)), quantity=1,
        guest={"name": "K"}, plates=["KF-01"], cause=CAUSE,
    ).id  # fmt: skip
    app.confirm(booking_id=booking, cause=CAUSE)
    return {"gate": gate, "booking": booking}


@pytest.fixture
def worker(db_url: str, broker: KafkaBroker, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BERTH_KAFKA_BOOTSTRAP", broker.bootstrap)
    monkeypatch.setenv(gate_reads.TOPIC_VAR, TOPIC)
    stop = threading.Event()
    threads = [
        threading.Thread(target=run_worker, args=(name, db_url, stop), daemon=True)
        for name in ("bookings", gate_reads.NAME)
    ]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(timeout=15)


def publish(broker: KafkaBroker, *messages: dict[str, Any] | bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    for message in messages:
        value = message if isinstance(message, bytes) else json.dumps(message).encode()
        producer.send(TOPIC, value=value)
    producer.flush(timeout=20)
    producer.close()


def read(gate: UUID, read_id: str, plate: str, at: datetime | None = None) -> dict[str, Any]:
    return {
        "gate_id": str(gate), "read_id": read_id, "camera_id": "cam-k", "plate": plate,
        "confidence": 0.88, "captured_at": (at or datetime.now(UTC)).isoformat(),
    }  # fmt: skip


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stored_reads(app: Reservations) -> list[PlateRead.Recorded]:
    events = (
        app.mapper.to_domain_event(n)
        for n in app.recorder.select_notifications(start=1, limit=100_000)
    )
    return [e for e in events if isinstance(e, PlateRead.Recorded)]


def consumed(db_url: str) -> int:
    """How many messages the gate-reads worker has consumed (recorded or skipped)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(next_offset), 0) FROM kafka_consumer_offsets WHERE consumer = %s",
            (gate_reads.NAME,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_read_from_kafka_checks_the_booking_in_and_a_repeat_is_stored_once(
    db_url: str, broker: KafkaBroker, app: Reservations, site: dict[str, Any], worker: None
) -> None:
    first = read(site["gate"], "k-1", "kf 01")
    publish(
        broker, first, b"not json", {"gate_id": "nope"}, first, read(site["gate"], "k-2", "ZZ9")
    )
    wait_until(lambda: len(stored_reads(app)) == 2)
    wait_until(lambda: app.booking(site["booking"]).status == Status.CHECKED_IN)
    reads = {r.read_id: r for r in stored_reads(app)}
    assert reads["k-1"].open and reads["k-1"].booking_id == site["booking"]
    assert (reads["k-2"].open, reads["k-2"].reason) == (False, "unknown-plate")
    # Every message consumed, the bad ones skipped (the last offset may land a moment
    # after the read it follows).
    wait_until(lambda: consumed(db_url) == 5)
    assert len(stored_reads(app)) == 2


def test_a_read_already_stored_by_the_webhook_is_not_stored_again(
    db_url: str, broker: KafkaBroker, app: Reservations, site: dict[str, Any], worker: None
) -> None:
    at = datetime.now(UTC)
    other = open_reservations(db_url)
    try:
        first = other.record_plate_read(
            read_id="both-ways", camera_id="cam-k", gate_id=site["gate"], plate="KF01",
            confidence=0.88, captured_at=at, booking_ids=[site["booking"]], cause=CAUSE,
        )  # fmt: skip
    finally:
        other.close()
    assert not first.duplicate
    publish(broker, read(site["gate"], "both-ways", "KF01", at), read(site["gate"], "after", "X1"))
    wait_until(lambda: {r.read_id for r in stored_reads(app)} == {"both-ways", "after"})
    assert [r.read_id for r in stored_reads(app)].count("both-ways") == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"read_id": "nul\x00"},
        {"image_ref": "img\x00"},
        {"plate": "KF\x0001"},
        {"candidates": ["KF\x0002"]},
        {"captured_at": "9999-12-31T23:59:59-14:00"},
    ],
)
def test_a_record_with_text_or_a_time_postgres_cannot_hold_is_skipped_and_stores_nothing(
    db_url: str, app: Reservations, site: dict[str, Any], changes: dict[str, str]
) -> None:
    """A read with NUL in its read id or image was stored, and the occupancy worker then
    failed on every start."""
    before = app.recorder.max_notification_id()
    value = json.dumps({**read(site["gate"], "k-bad", "KF01"), **changes}).encode()
    with psycopg.connect(db_url, autocommit=True) as conn:
        gate_reads.handle(app, conn, kafka_consumer.Message(0, 7, value), TOPIC)
    assert app.recorder.max_notification_id() == before
    assert stored_reads(app) == []


def test_the_same_read_id_at_two_facilities_is_stored_at_each_and_a_reuse_is_skipped(
    db_url: str, broker: KafkaBroker, app: Reservations, site: dict[str, Any], worker: None
) -> None:
    facility = app.register_facility(name="Second site", time_zone="UTC", cause=CAUSE).id
    gate = app.add_gate(facility_id=facility, name="in", direction="entry", cause=CAUSE).id
    publish(broker, read(site["gate"], "k-1", "KF01"), read(gate, "k-1", "KF01"))
    wait_until(lambda: len(stored_reads(app)) == 2)
    publish(broker, read(site["gate"], "k-1", "OTHER1"))  # the read id reused: refused
    wait_until(lambda: consumed(db_url) == 3)
    here = app.gate(site["gate"]).facility_id
    reads = sorted((str(r.facility_id), r.read_id, r.plate) for r in stored_reads(app))
    assert reads == sorted([(str(here), "k-1", "KF01"), (str(facility), "k-1", "KF01")])
    assert app.booking(site["booking"]).status == Status.CHECKED_IN
