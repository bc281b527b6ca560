"""`berth worker webhooks` as a real process: SIGKILLed mid-delivery, restarted, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import psycopg

from berth.adapters.kafka.kafka_records import event_id
from berth.adapters.webhooks.deliveries import webhook_id
from berth.domain.application import Reservations
from webhook_receiver import Receiver
from webhook_support import Bookings, log, subscribe, wait_until

BERTH = Path(sys.executable).with_name("berth")


def _worker(db_url: str, out: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    env |= {
        "BERTH_DATABASE_URL": db_url,
        "BERTH_WEBHOOKS_ALLOW_PRIVATE": "1",
        "BERTH_WEBHOOKS_FIRST_RETRY_SECONDS": "0.05",
        "BERTH_WEBHOOKS_PAGE_SIZE": "7",
    }
    with out.open("ab") as sink:
        return subprocess.Popen(
            [str(BERTH), "worker", "webhooks"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )


def _expected_ids(db_url: str, subscription_id: object) -> dict[str, tuple[str, int]]:
    """The webhook id of every Booking event, with its booking and version."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version FROM berth_events"
            " WHERE topic LIKE 'berth.domain.booking:Booking.%%'"
        ).fetchall()
    return {
        str(webhook_id(subscription_id, event_id(o, v))): (str(o), int(v))  # type: ignore[arg-type]
        for o, v in rows
    }


def test_killed_mid_delivery_then_restarted_every_event_arrives_with_the_same_ids(
    db_url: str, app: Reservations, receiver: Receiver, tmp_path: Path
) -> None:
    created, secret = subscribe(db_url, receiver.url)
    receiver.secret = secret
    out = tmp_path / "webhooks.log"
    bookings = Bookings(app)
    receiver.hold_after = 5  # from the sixth on, requests reach it and get no answer
    worker = _worker(db_url, out)
    try:
        for _ in range(15):
            bookings.hold_and_confirm()
        receiver.wait_for(5)
        wait_until(lambda: receiver.holding >= 1, what="a delivery in flight")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.hold_after = None
    receiver.hold.set()  # the receiver took them; the worker never heard it did
    delivered_before = len(receiver.ids())
    for _ in range(10):
        bookings.hold_and_confirm()  # while no worker runs
    expected = _expected_ids(db_url, created.subscription_id)
    assert delivered_before < len(expected), "killed too late to prove anything"

    worker = _worker(db_url, out)
    try:
        wait_until(lambda: set(receiver.ids()) >= set(expected), what="every event delivered")
        wait_until(
            lambda: {e.status for e in log(db_url, created.subscription_id)} == {"delivered"},
            what="every delivery recorded",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, out.read_text()
    received = list(receiver.received)
    assert set(receiver.ids()) == set(expected), "a webhook id of no event"
    assert all(r.verified for r in received)
    first: dict[str, bytes] = {}
    duplicates = 0
    versions: dict[str, list[int]] = defaultdict(list)
    for r in received:
        if r.webhook_id in first:
            assert r.raw == first[r.webhook_id], "a second copy that differs"
            duplicates += 1
            continue
        first[r.webhook_id] = r.raw
        booking, version = expected[r.webhook_id]
        versions[booking].append(version)
    assert duplicates >= 1, "the delivery in flight at the kill was not sent again"
    assert all(v == sorted(v) for v in versions.values()), "a booking's events out of order"
    assert "stopped" in out.read_text()
