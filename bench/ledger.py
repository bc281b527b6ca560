"""Ledger projection throughput catching up from zero, journal CSV export time, and the
availability and bookings projections' catch-up rates over the same history, in one run.

    .venv/bin/python bench/ledger.py [--bookings 40000] [--page-size 5000]

Fills a scratch database `berth_bench_ledger` (embedded PostgreSQL, or
BERTH_DATABASE_URL) with a season of bookings built on the aggregates and saved
50 bookings per transaction (the commands' one-booking transactions would take
far longer): each is held and allocated on its nights; 90% are confirmed, 60%
paid, 10% amended, 8% cancelled, some refunded; then 60 business days are closed
through the command. Each projection then catches up from position zero in
pages, as `berth worker` does; the journal is exported through the HTTP app.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import psycopg
from falcon import testing
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).parent))

from berth.adapters.postgres import apikeys
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.cancellation import CancellationPolicy
from berth.domain.cause import Cause
from berth.domain.inventory import NightInventory
from berth.domain.stay import Stay
from berth.http import Services, Settings, create_app
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner
from common import scratch_database

CAUSE = Cause(principal="bench", channel="bench", request_id="r", correlation_id="c")
START = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
SEASON = 90  # arrival days
CLOSED_DAYS = 60
CHUNK = 50  # bookings per transaction: much larger saves can stall psycopg's pipeline


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def progress(label: str, done: int, total: int, began: float) -> None:
    elapsed = time.perf_counter() - began
    sys.stderr.write(
        f"\r  {label}: {done:,}/{total:,} {done / max(elapsed, 1e-9):,.0f}/s {elapsed:5.1f}s   "
    )


def fill(app: Reservations, clock: Clock, count: int, rng: random.Random) -> None:
    facility = app.register_facility(name="Bench", time_zone="UTC", cause=CAUSE).id
    pool_id = app.add_pool(
        facility_id=facility, name="Season", capacity=1_000_000, nightly_price=1450,
        currency="EUR", cancellation=CancellationPolicy(free_until_hours=24, fee_percent=30),
        cause=CAUSE,
    ).id  # fmt: skip
    app.set_tax_rate(pool_id=pool_id, rate_bp=2000, cause=CAUSE)
    pool, now, meta = app.pool(pool_id), clock(), CAUSE.as_metadata()
    nights: dict[date, NightInventory] = {}
    began, pending = time.perf_counter(), []

    def inventory(night: date) -> NightInventory:
        if night not in nights:
            nights[night] = NightInventory.open(
                pool_id=pool.id, night=night, capacity=pool.capacity, now=now, cause=meta
            )
        return nights[night]

    for i in range(count):
        first = START.date() + timedelta(days=rng.randrange(SEASON))
        stay = Stay(first, first + timedelta(days=rng.choice([1, 2, 2, 3, 7])))
        booking = Booking.hold(
            booking_id=uuid4(), reference=f"B{i:07d}", facility_id=facility, pool_id=pool.id,
            channel="web", stay=stay, quantity=1, guest={"name": f"guest {i}"}, plates=[],
            hold_expires_at=now + timedelta(hours=1), nightly_price=pool.nightly_price,
            currency="EUR", time_zone="UTC", cancellation=pool.cancellation_policy, now=now,
            cause=meta,
        )  # fmt: skip
        roll = rng.random()
        for night in stay.days():
            inventory(night).allocate(
                booking_id=booking.id, quantity=1, expires_at=None, now=now, cause=meta
            )
        if roll < 0.9:
            booking.confirm(now=now, cause=meta)
            if roll < 0.1:
                booking.amend(
                    stay=stay, quantity=2, guest=booking.guest, plates=[], now=now, cause=meta
                )
                for night in stay.days():
                    inventory(night).allocate(
                        booking_id=booking.id, quantity=2, expires_at=None, now=now, cause=meta
                    )
            if roll < 0.6:
                booking.record_payment(
                    payment_id=f"p{i}", amount=booking.total, currency="EUR", method="card",
                    now=now, cause=meta,
                )  # fmt: skip
            if 0.5 < roll < 0.58:
                booking.cancel(reason="", now=now, cause=meta)
                for night in stay.days():
                    inventory(night).release(booking_id=booking.id, now=now, cause=meta)
                if booking.refundable() > 0:
                    booking.request_refund(
                        refund_id=f"r{i}", amount=booking.refundable(), currency="EUR",
                        reason="", now=now, cause=meta,
                    )  # fmt: skip
                    booking.settle_refund(
                        refund_id=f"r{i}", succeeded=True, reason="", now=now, cause=meta
                    )
        pending.append(booking)
        if len(pending) == CHUNK or i == count - 1:
            touched = {n for b in pending for n in Stay(b.arrival, b.departure).days()}
            app.save(*pending, *(nights[n] for n in sorted(touched)))
            pending = []
            progress("filling", i + 1, count, began)
    sys.stderr.write("\n")
    for day in range(CLOSED_DAYS):
        business_date = START.date() + timedelta(days=day)
        clock.now = START + timedelta(days=day + 1)  # the morning after: the day is over
        app.close_day(facility_id=facility, business_date=business_date, cause=CAUSE)


def count_events(url: str, topics: frozenset[str]) -> tuple[int, int]:
    """(events of these topics, all events) in the store."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE topic = ANY(%s)), count(*) FROM berth_events",
            (list(topics),),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def catch_up(url: str, app: Reservations, name: str, page_size: int) -> float:
    """Seconds the projection takes to apply the whole log from position zero."""
    runner = ProjectionRunner(url, PROJECTIONS[name], app.mapper, page_size=page_size)
    _, total = count_events(url, PROJECTIONS[name].topics)
    began, position, applied = time.perf_counter(), 0, 0
    with psycopg.connect(url) as conn:
        while True:
            result = runner.apply_page(conn, position)
            if not result.notifications:
                break
            position, applied = result.position, applied + result.notifications
            progress(f"{name} catching up", applied, total, began)
    sys.stderr.write("\n")
    return time.perf_counter() - began


def export_csv(
    url: str, app: Reservations, clock: Callable[[], datetime]
) -> tuple[float, int, int]:
    """Seconds, rows and bytes of GET /ledger/journal.csv for the whole history."""
    pool = ConnectionPool(url, min_size=1, max_size=4, kwargs={"autocommit": True}, open=True)
    try:
        with pool.connection() as conn:
            _, token = apikeys.create_key(conn, role="finance", scope="", label="bench")
        client = testing.TestClient(
            create_app(Settings(), Services(reservations=app, pool=pool, clock=clock))
        )
        sys.stderr.write("  exporting the journal as CSV ...\n")
        began = time.perf_counter()
        answer = client.simulate_get(
            "/ledger/journal.csv", headers={"Authorization": f"Bearer {token}"}
        )
        seconds = time.perf_counter() - began
        assert answer.status_code == 200, answer.text[:500]
        return seconds, answer.content.count(b"\n") - 1, len(answer.content)
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=40_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    url = scratch_database("berth_bench_ledger")
    clock = Clock(START)
    app = open_reservations(url, clock=clock)
    fill(app, clock, args.bookings, random.Random(args.seed))
    booking_events, events = count_events(url, PROJECTIONS["bookings"].topics)

    rows: list[tuple[str, int, int, float]] = []
    for name in ("ledger", "availability", "bookings"):
        seconds = catch_up(url, app, name, args.page_size)
        relevant, _ = count_events(url, PROJECTIONS[name].topics)
        rows.append((name, relevant, events, seconds))
    with psycopg.connect(url) as conn:
        lines = conn.execute("SELECT count(*) FROM ledger_journal").fetchone()
    export_seconds, exported, size = export_csv(url, app, clock)
    app.close()

    print(
        f"\nledger benchmark: {args.bookings:,} bookings, {booking_events:,} booking events,"
        f" {events:,} events in all, pages of {args.page_size:,},"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print("| projection | its events | events/s (its) | notifications/s (all) | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, relevant, total, seconds in rows:
        print(
            f"| {name} | {relevant:,} | {relevant / seconds:,.0f} | {total / seconds:,.0f} |"
            f" {seconds:.1f} |"
        )
    assert lines is not None
    print(
        f"\njournal: {int(lines[0]):,} lines; GET /ledger/journal.csv streamed {exported:,} rows"
        f" ({size / 1e6:.1f} MB) in {export_seconds:.1f} s"
        f" ({exported / export_seconds:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
