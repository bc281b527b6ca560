"""The Kafka relay against a real broker (Tansu) and a real PostgreSQL: nothing lost, in order."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from berth.domain.application import Reservations
from kafka_broker import KafkaBroker, read_topics
from relay_support import (
    Bookings,
    assert_every_event_published,
    relay_position,
    relay_running,
    settings,
    stored_events,
    wait_until_relayed,
)

BERTH = Path(sys.executable).with_name("berth")


def test_relay_publishes_every_event_in_order_per_aggregate_with_headers_and_event_ids(
    db_url: str, app: Reservations, broker: KafkaBroker
) -> None:
    bookings = Bookings(app)
    bookings.book(20)
    with relay_running(db_url, settings(broker), page_size=25):
        wait_until_relayed(db_url)
        bookings.book(20)  # live: woken by NOTIFY
        wait_until_relayed(db_url)

    records = read_topics(broker.bootstrap, "berth.")
    assert assert_every_event_published(db_url, records) == 0
    assert {r.topic for r in records} == {
        "berth.facility", "berth.pool", "berth.booking", "berth.booking-reference",
        "berth.night-inventory",
    }  # fmt: skip
    held = min(
        (r for r in records if dict(r.headers)["event-type"] == b"Booking.Held"),
        key=lambda r: int(dict(r.headers)["position"]),
    )
    value = json.loads(held.value)
    assert value["type"] == "Booking.Held"
    assert value["aggregate_type"] == "booking"
    assert value["cause"] == {
        "principal": "test", "channel": "web", "request_id": "r", "correlation_id": "req-0"
    }  # fmt: skip
    assert value["data"]["guest"] == {"given_name": "guest", "family_name": "0"}
    assert value["data"]["arrival"] == "2030-06-10"
    assert value["data"]["pool_id"] == str(bookings.pool)
    assert value["timestamp"].endswith("+00:00")


def test_relay_rides_out_a_broker_outage_longer_than_its_timeouts_without_skipping(
    db_url: str, app: Reservations, broker: KafkaBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="berth.workers.kafka_relay")
    bookings = Bookings(app)
    writing = threading.Event()

    def keep_booking() -> None:
        while writing.is_set():
            bookings.book()
            time.sleep(0.01)

    # Client timeouts of 1 s (request) and 2 s (delivery); the broker stops for 4 s.
    with relay_running(db_url, settings(broker, timeout_ms=1000), page_size=20):
        writing.set()
        writer = threading.Thread(target=keep_booking)
        writer.start()
        try:
            time.sleep(1.0)
            with broker.paused():
                time.sleep(4.0)
            time.sleep(1.0)
        finally:
            writing.clear()
            writer.join()
        wait_until_relayed(db_url)

    failures = [r for r in caplog.records if "not published" in r.getMessage()]
    assert failures, "the outage went unnoticed: the test proves nothing"
    records = read_topics(broker.bootstrap, "berth.")
    assert_every_event_published(db_url, records)


def _relay_process(db_url: str, bootstrap: str | None, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    env["BERTH_DATABASE_URL"] = db_url
    env["BERTH_KAFKA_RELAY_PAGE_SIZE"] = "20"
    if bootstrap is not None:
        env["BERTH_KAFKA_BOOTSTRAP"] = bootstrap
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BERTH), "worker", "kafka-relay"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def test_relay_killed_mid_stream_resumes_from_its_last_acknowledged_page(
    db_url: str, app: Reservations, broker: KafkaBroker, tmp_path: Path
) -> None:
    Bookings(app).book(600)
    head = stored_events(db_url)[-1][0]
    log = tmp_path / "relay.log"

    relay = _relay_process(db_url, broker.bootstrap, log)
    deadline = time.monotonic() + 30
    while (reached := relay_position(db_url)) == 0:
        assert relay.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.002)
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    killed_at = relay_position(db_url)
    assert 0 < reached <= killed_at < head, "killed too late to prove anything"

    relay = _relay_process(db_url, broker.bootstrap, log)
    try:
        wait_until_relayed(db_url)
    finally:
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=15) == 0, log.read_text()
    assert f"resuming after position {killed_at}" in log.read_text()

    records = read_topics(broker.bootstrap, "berth.")
    assert_every_event_published(db_url, records)


def test_without_kafka_bootstrap_the_relay_idles_harmlessly_and_stops_on_sigterm(
    db_url: str, app: Reservations, tmp_path: Path
) -> None:
    Bookings(app).book(2)
    log = tmp_path / "relay.log"
    relay = _relay_process(db_url, None, log)
    deadline = time.monotonic() + 20
    while "without Kafka" not in log.read_text():
        assert relay.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    relay.send_signal(signal.SIGTERM)
    assert relay.wait(timeout=15) == 0, log.read_text()
    with psycopg.connect(db_url) as conn:
        assert conn.execute("SELECT count(*) FROM relay_positions").fetchone() == (0,)
