"""The availability and bookings projections on real PostgreSQL, run in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import queries
from berth.adapters.tracking import projection_store
from berth.domain.application import Reservations
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay
from berth.workers import PROJECTIONS, expire_holds
from berth.workers.projection_runner import ProjectionRunner
from projection_support import (
    READ_MODELS,
    Clock,
    catch_up,
    cause,
    head,
    position,
    read_models,
    rebuild,
    runner,
)

NIGHT = date(2030, 6, 10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(db_url: str, clock: Clock) -> Iterator[Reservations]:
    application = open_reservations(db_url, clock=clock)
    yield application
    application.close()


def new_pool(app: Reservations, capacity: int = 10) -> UUID:
    facility = app.catalogue.register_facility(
        name="Harbour", time_zone="UTC", context=CommandContext(cause=cause())
    ).id
    return app.catalogue.add_pool(
        facility_id=facility,
        name="Long stay",
        capacity=capacity,
        nightly_price=1500,
        currency="GBP",
        context=CommandContext(cause=cause()),
    ).id


def hold(app: Reservations, pool: UUID, nights: int = 2, quantity: int = 1, day: int = 0) -> UUID:
    stay = Stay(NIGHT + timedelta(days=day), NIGHT + timedelta(days=day + nights))
    return app.bookings.hold(
        pool_id=pool,
        stay=stay,
        quantity=quantity,
        guest={"name": "Ada"},
        context=CommandContext(cause=cause()),
    ).id


def busy_day(app: Reservations, clock: Clock) -> UUID:
    """A bit of everything the two projections read."""
    pool = new_pool(app)
    a = hold(app, pool)
    b = hold(app, pool, nights=3, quantity=2)
    c = hold(app, pool, day=1)
    d = hold(app, pool, day=2)
    app.bookings.confirm(booking_id=a, context=CommandContext(cause=cause()))
    app.bookings.confirm(booking_id=b, context=CommandContext(cause=cause()))
    app.bookings.amend(
        booking_id=b,
        departure=NIGHT + timedelta(days=5),
        quantity=1,
        context=CommandContext(cause=cause()),
    )
    app.bookings.record_payment(
        booking_id=a,
        amount=3000,
        currency="GBP",
        method="card",
        context=CommandContext(cause=cause()),
    )
    app.bookings.request_refund(
        booking_id=a,
        amount=500,
        currency="GBP",
        refund_id="r1",
        context=CommandContext(cause=cause()),
    )
    app.bookings.settle_refund(
        booking_id=a, refund_id="r1", succeeded=True, context=CommandContext(cause=cause())
    )
    app.bookings.cancel(booking_id=c, context=CommandContext(cause=cause()))
    app.catalogue.change_capacity(
        pool_id=pool, first_night=NIGHT, last_night=NIGHT + timedelta(days=3), capacity=8,
        context=CommandContext(cause=cause()),
    )  # fmt: skip
    clock.advance(timedelta(minutes=20))
    app.bookings.expire(booking_id=d, context=CommandContext(cause=cause()))
    return pool


def test_a_projection_applied_in_small_pages_equals_a_rebuild_from_scratch(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    busy_day(app, clock)

    reached = catch_up(db_url, app, page_size=3)
    live = read_models(db_url)

    assert reached == dict.fromkeys(READ_MODELS, head(db_url))
    assert live == rebuild(db_url, app)
    assert len(live["bookings"]) == 4
    assert len(live["availability_nights"]) == 5


def test_the_bookings_row_follows_every_event(db_url: str, app: Reservations, clock: Clock) -> None:
    pool = new_pool(app)
    booking_id = hold(app, pool)
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause()))
    grace = {"given_name": "Grace", "family_name": "Hopper"}
    app.bookings.amend(
        booking_id=booking_id, quantity=2, guest=grace, context=CommandContext(cause=cause())
    )
    app.bookings.record_payment(
        booking_id=booking_id,
        amount=6000,
        currency="GBP",
        method="card",
        context=CommandContext(cause=cause()),
    )
    app.bookings.request_refund(
        booking_id=booking_id,
        amount=1000,
        currency="GBP",
        refund_id="r",
        context=CommandContext(cause=cause()),
    )
    app.bookings.settle_refund(
        booking_id=booking_id, refund_id="r", succeeded=True, context=CommandContext(cause=cause())
    )
    last = app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause()))
    catch_up(db_url, app, "bookings", page_size=2)

    with psycopg.connect(db_url) as conn:
        row = queries.booking(conn, booking_id)
        booking_event = conn.execute(
            "SELECT max(notification_id) FROM berth_events WHERE originator_id = %s", (booking_id,)
        ).fetchone()
    written = app.bookings.booking(booking_id)
    assert row is not None
    assert booking_event is not None
    assert row["status"] == "cancelled"
    assert (row["quantity"], row["total"], row["guest"]) == (2, 6000, grace)
    assert (row["paid"], row["refunded"]) == (6000, 1000)
    assert row["cancellation_fee"] == written.cancellation_fee
    # The booking's own last event: the command's position also counts the nights it freed.
    assert (row["version"], row["position"]) == (written.version, booking_event[0])
    assert row["position"] <= last.position
    assert row["modified_at"] == clock.now


def test_a_page_is_applied_once_even_when_two_runners_race_for_it(
    db_url: str, app: Reservations
) -> None:
    pool = new_pool(app)
    booking_id = hold(app, pool)
    app.bookings.record_payment(booking_id=booking_id, amount=100, currency="GBP", method="card",
                       context=CommandContext(cause=cause()))  # fmt: skip
    first = runner(db_url, app, "bookings")
    second = runner(db_url, app, "bookings")

    with psycopg.connect(db_url) as one, psycopg.connect(db_url) as two:
        first.apply_page(one, 0)
        with pytest.raises(projection_store.PositionMoved):
            second.apply_page(two, 0)

    with psycopg.connect(db_url) as conn:
        row = queries.booking(conn, booking_id)
    assert row is not None
    assert row["paid"] == 100
    assert position(db_url, "bookings") == head(db_url)


def test_a_runner_that_read_a_page_the_other_is_committing_waits_then_writes_nothing(
    db_url: str,
) -> None:
    """The position's move locks its row: the second waits for the first's commit, then
    finds the position moved (PositionMoved) before it writes its rows."""
    written: list[int] = []
    outcome: dict[str, projection_store.PositionMoved] = {}

    def move(conn: psycopg.Connection[Any], after: int, to: int) -> None:
        with conn.transaction(), conn.cursor() as cur:
            projection_store.move_position(
                cur, projection="bookings", after=after, position=to, event_time=None
            )
            written.append(to)  # where a runner writes its page's rows

    def second(conn: psycopg.Connection[Any]) -> None:
        try:
            move(conn, 3, 7)
        except projection_store.PositionMoved as moved:
            outcome["moved"] = moved

    with psycopg.connect(db_url) as one, psycopg.connect(db_url) as two:
        move(one, 0, 3)  # the position's row exists, at 3 (a first page creates it)
        written.clear()
        with one.transaction(), one.cursor() as cur:
            projection_store.move_position(
                cur, projection="bookings", after=3, position=5, event_time=None
            )
            waiting = threading.Thread(target=second, args=(two,))
            waiting.start()
            with psycopg.connect(db_url, autocommit=True) as watch:
                deadline = time.monotonic() + 30
                while (
                    time.monotonic() < deadline
                    and not watch.execute(
                        "SELECT 1 FROM pg_stat_activity"
                        " WHERE pid = %s AND wait_event_type = 'Lock'",
                        (two.info.backend_pid,),
                    ).fetchone()
                ):
                    time.sleep(0.01)
            assert waiting.is_alive()  # blocked on the position's row lock
        waiting.join(timeout=30)
    assert outcome["moved"].actual == 5
    assert written == []
    assert position(db_url, "bookings") == 5


def test_a_page_refuses_a_connection_already_in_a_transaction(
    db_url: str, app: Reservations
) -> None:
    """Its transaction block would be a savepoint there, committed only with the caller's."""
    hold(app, new_pool(app))
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT 1")  # a non-autocommit connection: an implicit transaction
        with pytest.raises(psycopg.ProgrammingError, match="already in one"):
            runner(db_url, app, "availability").apply_page(conn, 0)
    assert position(db_url, "availability") == 0


def test_a_page_that_fails_before_commit_leaves_neither_rows_nor_position(
    db_url: str, app: Reservations
) -> None:
    hold(app, new_pool(app))

    def crash(cur: psycopg.Cursor[Any], changes: object) -> None:
        cur.execute("INSERT INTO availability_pools SELECT gen_random_uuid(), "
                    "gen_random_uuid(), 'x', 1, 1, 'GBP', 'UTC'")  # fmt: skip
        raise RuntimeError("power cut")

    crashing = ProjectionRunner(
        db_url, replace(PROJECTIONS["availability"], write=crash), app.mapper
    )
    with psycopg.connect(db_url) as conn, pytest.raises(RuntimeError):
        crashing.apply_page(conn, 0)  # the position moved, a row written, then the crash
    assert position(db_url, "availability") == 0
    assert read_models(db_url, "availability")["availability_pools"] == []


def test_wait_for_position_returns_once_a_running_worker_applies_the_command(
    db_url: str, app: Reservations
) -> None:
    pool = new_pool(app)
    stop = threading.Event()
    workers = [
        threading.Thread(target=runner(db_url, app, name).run, args=(stop,))
        for name in ("availability", "bookings")
    ]
    for worker in workers:
        worker.start()
    try:
        result = app.bookings.hold(
            pool_id=pool, stay=Stay(NIGHT, NIGHT + timedelta(days=1)), quantity=3,
            guest={"name": "Ada"}, context=CommandContext(cause=cause()),
        )  # fmt: skip
        started = time.monotonic()
        with psycopg.connect(db_url, autocommit=True) as conn:
            reached = queries.wait_for_position(
                conn,
                projections=["availability", "bookings"],
                min_position=result.position,
                timeout=5,
            )
            waited = time.monotonic() - started
            nights = queries.availability(
                conn, pool_id=pool, first_night=NIGHT, last_night=NIGHT, now=app.clock()
            )
            booking = queries.booking(conn, result.id)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=5)
    assert reached
    assert waited < 0.5  # woken by NOTIFY, not by the 1 s fallback poll
    assert nights is not None
    assert nights[0]["held"] == 3
    assert booking is not None
    assert booking["status"] == "held"
    assert not any(worker.is_alive() for worker in workers)


def test_an_expired_hold_stops_counting_before_the_expire_worker_runs(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    pool = new_pool(app, capacity=5)
    booking_id = app.bookings.hold(
        pool_id=pool,
        stay=Stay(NIGHT, NIGHT + timedelta(days=1)),
        quantity=2,
        guest={"name": "Ada"},
        hold_for=timedelta(minutes=15),
        context=CommandContext(cause=cause()),
    ).id
    catch_up(db_url, app)

    def counts() -> tuple[int, int]:
        with psycopg.connect(db_url) as conn:
            nights = queries.availability(
                conn, pool_id=pool, first_night=NIGHT, last_night=NIGHT, now=clock.now
            )
        assert nights is not None
        return nights[0]["held"], nights[0]["remaining"]

    assert counts() == (2, 3)
    clock.advance(timedelta(minutes=15))
    assert counts() == (0, 5)
    assert counts()[0] == app.catalogue.sold(pool, NIGHT)

    with psycopg.connect(db_url, autocommit=True) as conn:
        assert expire_holds.expire_due_holds(conn, app, now=clock.now) == 1
        catch_up(db_url, app)
        assert expire_holds.expire_due_holds(conn, app, now=clock.now) == 0
        row = queries.booking(conn, booking_id)
    assert row is not None
    assert row["status"] == "expired"
    assert read_models(db_url, "availability")["availability_allocations"] == []


def test_the_expire_worker_skips_a_hold_confirmed_after_the_read_model_saw_it(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    booking_id = hold(app, new_pool(app))
    catch_up(db_url, app)
    app.bookings.confirm(
        booking_id=booking_id, context=CommandContext(cause=cause())
    )  # not yet projected
    clock.advance(timedelta(hours=1))

    with psycopg.connect(db_url, autocommit=True) as conn:
        assert expire_holds.expire_due_holds(conn, app, now=clock.now) == 0
    assert app.bookings.booking(booking_id).status == "confirmed"
