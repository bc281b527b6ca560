"""The ledger projection on real PostgreSQL: what it writes, rebuilds, and a kill mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import AggregateEvent

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import ledger_rows
from berth.domain.application import Reservations
from berth.domain.audit_calendar import AuditCalendar, audit_calendar_id
from berth.domain.booking import Booking
from berth.domain.business_day import DayAlreadyClosed
from berth.domain.cancellation import CancellationPolicy
from berth.domain.error import DomainError
from berth.domain.inventory import NightInventory
from berth.domain.stay import Stay
from berth.projections import ledger
from berth.projections.ledger_books import Books, Entry
from projection_support import Clock, catch_up, cause, head, position, read_models, rebuild

TODAY = date(2030, 6, 1)  # the projection_support clock starts at 09:00 UTC on 1 June
BERTH = Path(sys.executable).with_name("berth")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(db_url: str, clock: Clock) -> Iterator[Reservations]:
    application = open_reservations(db_url, clock=clock)
    yield application
    application.close()


def taxed_facility(app: Reservations, price: int = 2000) -> tuple[UUID, UUID]:
    facility = app.register_facility(name="Harbour", time_zone="Europe/London", cause=cause()).id
    pool = app.add_pool(
        facility_id=facility, name="Long stay", capacity=100_000, nightly_price=price,
        currency="EUR", cancellation=CancellationPolicy(free_until_hours=24, fee_percent=50),
        cause=cause(),
    ).id  # fmt: skip
    app.set_tax_rate(pool_id=pool, rate_bp=2000, cause=cause())
    return facility, pool


def book(app: Reservations, pool: UUID, first: int, nights: int, *, confirm: bool = True) -> UUID:
    stay = Stay(TODAY + timedelta(days=first), TODAY + timedelta(days=first + nights))
    booking = app.hold(pool_id=pool, stay=stay, quantity=1, guest={"name": "Ada"}, cause=cause())
    if confirm:
        app.confirm(booking_id=booking.id, cause=cause())
    return booking.id


def pay(app: Reservations, booking_id: UUID, amount: int) -> None:
    app.record_payment(
        booking_id=booking_id, amount=amount, currency="EUR", method="card", cause=cause()
    )


def a_month_of_finance(app: Reservations, clock: Clock) -> UUID:
    """Every kind of posting, over three closed days; the facility's id."""
    facility, pool = taxed_facility(app)
    stays = [book(app, pool, first, nights) for first, nights in [(0, 3), (0, 1), (1, 2), (5, 2)]]
    late = app.hold(
        pool_id=pool, stay=Stay(TODAY, TODAY + timedelta(days=2)), quantity=1,
        guest={"name": "Ada"}, hold_for=timedelta(hours=24), cause=cause(),
    ).id  # fmt: skip
    for booking_id in stays[:3]:
        pay(app, booking_id, 6000)
    app.amend(booking_id=stays[2], quantity=2, cause=cause())
    clock.advance(timedelta(hours=23))  # 09:00 on 2 June in London: 1 June is over
    app.close_day(facility_id=facility, business_date=TODAY, cause=cause())
    app.confirm(booking_id=late, cause=cause())  # recognises 1 June at once
    app.cancel(booking_id=stays[0], cause=cause())  # a fee, revenue back, an overpayment
    refund = app.request_refund(
        booking_id=stays[0], amount=4000, currency="EUR", refund_id="r1", cause=cause()
    )
    assert refund.position
    app.settle_refund(booking_id=stays[0], refund_id="r1", succeeded=True, cause=cause())
    app.cancel(booking_id=stays[3], cause=cause())  # free: nothing but reversals
    clock.advance(timedelta(days=1))
    app.close_day(facility_id=facility, business_date=TODAY + timedelta(days=1), cause=cause())
    clock.advance(timedelta(days=1))
    app.close_day(facility_id=facility, business_date=TODAY + timedelta(days=2), cause=cause())
    return facility


def journal(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT {', '.join(ledger_rows.JOURNAL_COLUMNS)} FROM ledger_journal"
            " ORDER BY position, seq, line_no"
        ).fetchall()


def pure_entries(app: Reservations) -> list[Entry]:
    """The entries the pure rules give for the whole store, in one fold in memory."""
    books, entries = Books(), []
    for n in app.recorder.select_notifications(start=1, limit=1_000_000):
        event = app.mapper.to_domain_event(n)
        assert isinstance(event, AggregateEvent)
        entries += ledger.post(books, n.id, event)
    return entries


def test_the_journal_is_what_the_pure_rules_post_and_it_balances(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    a_month_of_finance(app, clock)

    catch_up(db_url, app, "ledger", page_size=7)

    rows = journal(db_url)
    assert rows == list(ledger_rows.journal_rows(pure_entries(app)))
    assert sum(row[5] for row in rows) == 0
    kinds = {row[3] for row in rows}
    assert kinds == {
        "confirmation", "payment", "amendment", "recognition", "cancellation",
        "reclassification", "refund",
    }  # fmt: skip


def test_the_ledger_applied_in_pages_of_three_equals_a_rebuild_from_position_zero(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    facility = a_month_of_finance(app, clock)
    catch_up(db_url, app, "ledger", page_size=3)
    with psycopg.connect(db_url) as conn:
        payment = conn.execute(
            "SELECT entry_id FROM ledger_journal WHERE kind = 'payment' LIMIT 1"
        ).fetchone()
    assert payment is not None
    app.reverse_entry(facility_id=facility, entry_id=payment[0], reason="test", cause=cause())
    catch_up(db_url, app, "ledger", page_size=3)

    live = read_models(db_url, "ledger")

    assert live == rebuild(db_url, app, "ledger")
    assert [row[3] for row in journal(db_url)][-2:] == ["reversal", "reversal"]


def test_two_clients_closing_the_same_day_at_once_post_it_once(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    facility, pool = taxed_facility(app)
    book(app, pool, 0, 2)
    clock.advance(timedelta(days=1))
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def close() -> None:
        other = open_reservations(db_url, clock=app.clock)
        try:
            start.wait()
            other.close_day(facility_id=facility, business_date=TODAY, cause=cause())
            outcomes.append("closed")
        except DayAlreadyClosed:
            outcomes.append("refused")
        finally:
            other.close()

    threads = [threading.Thread(target=close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    catch_up(db_url, app, "ledger")

    assert sorted(outcomes) == ["closed", "refused", "refused", "refused"]
    assert [row[3] for row in journal(db_url)].count("recognition") == 3  # three lines, once


def race(db_url: str, app: Reservations, facility: UUID, days: list[date]) -> dict[date, str]:
    """Clients closing `days` at once, one each: what each was told."""
    outcomes: dict[date, str] = {}
    start = threading.Barrier(len(days))

    def close(day: date) -> None:
        other = open_reservations(db_url, clock=app.clock)
        try:
            start.wait()
            other.close_day(facility_id=facility, business_date=day, cause=cause())
            outcomes[day] = "closed"
        except DomainError as error:
            outcomes[day] = error.code
        finally:
            other.close()

    threads = [threading.Thread(target=close, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_clients_starting_the_night_audit_on_different_days_at_once_start_it_once(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    facility, _ = taxed_facility(app)
    clock.advance(timedelta(days=10))
    first, other = TODAY + timedelta(days=2), TODAY + timedelta(days=6)

    outcomes = race(db_url, app, facility, [first, other])

    assert sorted(outcomes.values()) == ["closed", "previous-day-open"]
    calendar = app.repository.get(audit_calendar_id(facility))
    assert isinstance(calendar, AuditCalendar)
    assert outcomes[calendar.first_closed] == "closed"


def test_clients_closing_the_next_days_at_once_never_close_a_day_before_the_one_ahead_of_it(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    facility, _ = taxed_facility(app)
    clock.advance(timedelta(days=10))
    app.close_day(facility_id=facility, business_date=TODAY, cause=cause())
    days = [TODAY + timedelta(days=n) for n in (1, 2, 3)]

    outcomes = race(db_url, app, facility, days)

    closed = [day for day in days if outcomes[day] == "closed"]
    assert closed == days[: len(closed)]  # a prefix: each closed day's previous day is closed
    assert closed, outcomes  # the day after the last closed one cannot be refused
    assert {outcomes[day] for day in days if day not in closed} <= {"previous-day-open"}


# -- a worker process killed mid-batch -----------------------------------------------


def bulk_history(app: Reservations, clock: Clock, count: int, *, chunk: int = 50) -> None:
    """`count` confirmed two-night bookings, every third paid, many saved per transaction,
    then the first days closed: built on the aggregates, the commands would be slow."""
    facility, pool_id = taxed_facility(app)
    pool = app.pool(pool_id)
    now, meta = app.clock(), cause().as_metadata()
    inventories: dict[date, NightInventory] = {}
    pending: list[Any] = []
    for i in range(count):
        stay = Stay(TODAY + timedelta(days=i % 5), TODAY + timedelta(days=i % 5 + 2))
        booking = Booking.hold(
            booking_id=uuid4(), reference=f"L{i:07d}", facility_id=pool.facility_id,
            pool_id=pool.id, channel="web", stay=stay, quantity=1, guest={"name": f"g{i}"},
            plates=[], hold_expires_at=now + timedelta(hours=1), nightly_price=pool.nightly_price,
            currency=pool.currency, time_zone=pool.time_zone,
            cancellation=pool.cancellation_policy, now=now, cause=meta,
        )  # fmt: skip
        booking.confirm(now=now, cause=meta)
        if i % 3 == 0:
            booking.record_payment(
                payment_id=f"p{i}", amount=booking.total, currency="EUR", method="card",
                now=now, cause=meta,
            )  # fmt: skip
        for night in stay.days():
            if night not in inventories:
                inventories[night] = NightInventory.open(
                    pool_id=pool.id, night=night, capacity=pool.capacity, now=now, cause=meta
                )
            inventories[night].allocate(
                booking_id=booking.id, quantity=1, expires_at=None, now=now, cause=meta
            )
        pending.append(booking)
        if len(pending) == chunk or i == count - 1:
            # Only the nights this chunk touched: large saves can stall psycopg's pipeline.
            touched = {night for b in pending for night in Stay(b.arrival, b.departure).days()}
            app.save(*pending, *(inventories[night] for night in sorted(touched)))
            pending = []
    clock.advance(timedelta(days=1))
    app.close_day(facility_id=facility, business_date=TODAY, cause=cause())


def start_worker(db_url: str, log: Path, page_size: int = 300) -> subprocess.Popen[bytes]:
    env = dict(os.environ, BERTH_DATABASE_URL=db_url, BERTH_PROJECTION_PAGE_SIZE=str(page_size))
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BERTH), "worker", "ledger"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(every)


def busy(db_url: str) -> bool:
    """Whether the ledger worker is inside a transaction right now."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'berth-worker:ledger'"
            " AND datname = current_database() AND state <> 'idle' AND xact_start IS NOT NULL"
        ).fetchone()
    return row is not None and int(row[0]) == 1


def test_a_ledger_worker_killed_mid_batch_and_restarted_equals_a_rebuild(
    db_url: str, app: Reservations, clock: Clock, tmp_path: Path
) -> None:
    bulk_history(app, clock, 3000)
    end = head(db_url)
    log = tmp_path / "ledger.log"

    first = start_worker(db_url, log)
    try:
        wait_until(lambda: position(db_url, "ledger") > 0 and busy(db_url), every=0.002)
    finally:
        first.kill()  # SIGKILL: the page in flight is cut off with its transaction
    first.wait(timeout=10)
    killed_at = position(db_url, "ledger")
    assert 0 < killed_at < end, "the kill must land before the worker caught up"

    second = start_worker(db_url, log)
    try:
        wait_until(lambda: position(db_url, "ledger") == end)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=10) == 0, log.read_text()
    live = read_models(db_url, "ledger")

    assert live == rebuild(db_url, app, "ledger")
    assert sum(row[5] for row in live["ledger_journal"]) == 0
    kinds = [row[3] for row in live["ledger_journal"]]
    assert kinds.count("recognition") == 3 * 600  # bookings arriving on 1 June, 3 lines each
