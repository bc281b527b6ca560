"""Revenue per day follows the nights' prices, through the real ledger projection on PostgreSQL.

1 June 2030 is a Saturday. The plan `weekend` sells a space at 30.00 on Saturday
and Sunday nights and 10.00 on the others; the pool's own price is 20.00 every
night; 20% tax is included in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import AggregateEvent

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import ledger_queries, ledger_rows
from berth.domain.application import Reservations
from berth.domain.cancellation import CancellationPolicy
from berth.domain.command_context import CommandContext
from berth.domain.pricing import PlanTerms
from berth.domain.stay import Stay
from berth.projections import ledger
from berth.projections.ledger_books import Books, Entry
from berth.web.pages import night_audit
from old_events import store_v1_booking
from projection_support import Clock, catch_up, cause, read_models, rebuild

TODAY = date(2030, 6, 1)  # a Saturday; the clock starts at 09:00 UTC, 10:00 in London
WEEKEND = PlanTerms(base_price=1000, weekday_prices={"sat": 3000, "sun": 3000})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(db_url: str, clock: Clock) -> Iterator[Reservations]:
    application = open_reservations(db_url, clock=clock)
    yield application
    application.close()


def context() -> CommandContext:
    return CommandContext(cause=cause())


def weekend_facility(app: Reservations) -> tuple[UUID, UUID]:
    facility = app.catalogue.register_facility(
        name="Harbour", time_zone="Europe/London", context=context()
    ).id
    pool = app.catalogue.add_pool(
        facility_id=facility, name="Long stay", capacity=100, nightly_price=2000,
        currency="EUR", cancellation=CancellationPolicy(free_until_hours=24, fee_percent=50),
        context=context(),
    ).id  # fmt: skip
    app.catalogue.set_tax_rate(pool_id=pool, rate_bp=2000, context=context())
    app.pricing.create_rate_plan(
        pool_id=pool, code="weekend", name="Weekend", terms=WEEKEND, context=context()
    )
    return facility, pool


def book(app: Reservations, pool: UUID, nights: int, quantity: int, plan: str) -> UUID:
    booking = app.bookings.hold(
        pool_id=pool, stay=Stay(TODAY, TODAY + timedelta(days=nights)), quantity=quantity,
        guest={"name": "Ada"}, rate_plan=plan, context=context(),
    )  # fmt: skip
    app.bookings.confirm(booking_id=booking.id, context=context())
    return booking.id


def pure_entries(app: Reservations) -> list[Entry]:
    books, entries = Books(), []
    for n in app.recorder.select_notifications(start=1, limit=1_000_000):
        event = app.mapper.to_domain_event(n)
        assert isinstance(event, AggregateEvent)
        entries += ledger.post(books, n.id, event)
    return entries


def test_revenue_per_day_follows_the_prices_the_nights_were_sold_at(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    facility, pool = weekend_facility(app)
    weekend = book(app, pool, nights=3, quantity=2, plan="weekend")  # 2 x (30 + 30 + 10)
    flat = book(app, pool, nights=3, quantity=1, plan="default")  # 20 + 20 + 20
    catch_up(db_url, app, page_size=3)  # the bookings read model too, for the preview

    previews, revenue = [], []
    for offset in range(3):
        day = TODAY + timedelta(days=offset)
        clock.advance(timedelta(days=1))
        with psycopg.connect(db_url) as conn:
            previews.append(night_audit.preview(conn, facility, day)["totals"])
        app.finance.close_day(facility_id=facility, business_date=day, context=context())
        catch_up(db_url, app, "ledger", page_size=2)
    with psycopg.connect(db_url) as conn:
        revenue = ledger_queries.revenue(
            conn, facility_id=facility, first=TODAY, last=TODAY + timedelta(days=2)
        )
        kept = conn.execute(
            "SELECT booking_id, quantity, night_prices FROM ledger_bookings ORDER BY quantity"
        ).fetchall()

    by_day = [
        (day["date"], day["accounts"]["stay_revenue"], day["accounts"]["tax_payable"])
        for day in revenue
    ]
    assert by_day == [
        (TODAY, 5000 + 1667, 1000 + 333),  # Saturday: 2 x 30.00 and 20.00, tax included
        (TODAY + timedelta(days=1), 5000 + 1667, 1000 + 333),  # Sunday: the same
        (TODAY + timedelta(days=2), 1667 + 1667, 333 + 333),  # Monday: 2 x 10.00 and 20.00
    ]
    # The night audit previewed what each close then recognised, tax included.
    assert previews == [[("EUR", 8000)], [("EUR", 8000)], [("EUR", 4000)]]
    assert kept == [(flat, 1, [2000, 2000, 2000]), (weekend, 2, [3000, 3000, 1000])]
    with psycopg.connect(db_url) as conn:
        journal = conn.execute(
            f"SELECT {', '.join(ledger_rows.JOURNAL_COLUMNS)} FROM ledger_journal"
            " ORDER BY position, seq, line_no"
        ).fetchall()
    assert journal == list(ledger_rows.journal_rows(pure_entries(app)))
    assert sum(row[5] for row in journal) == 0


def test_amended_and_cancelled_plan_bookings_balance_and_a_rebuild_gives_the_same_ledger(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    facility, pool = weekend_facility(app)
    longer = book(app, pool, nights=2, quantity=1, plan="weekend")  # Saturday and Sunday
    app.bookings.amend(booking_id=longer, departure=TODAY + timedelta(days=3), context=context())
    cancelled = book(app, pool, nights=3, quantity=1, plan="weekend")
    clock.advance(timedelta(days=1))
    app.finance.close_day(facility_id=facility, business_date=TODAY, context=context())
    catch_up(db_url, app, "ledger", page_size=4)
    app.bookings.amend(booking_id=longer, quantity=3, context=context())  # after a closed night
    app.bookings.cancel(booking_id=cancelled, context=context())  # with a fee
    for offset in (1, 2):
        clock.advance(timedelta(days=1))
        app.finance.close_day(
            facility_id=facility, business_date=TODAY + timedelta(days=offset), context=context()
        )
    catch_up(db_url, app, "ledger", page_size=4)

    live = read_models(db_url, "ledger")
    with psycopg.connect(db_url) as conn:
        balances = dict(conn.execute("SELECT booking_id, balances FROM ledger_bookings").fetchall())

    assert sum(row[5] for row in live["ledger_journal"]) == 0
    assert "deferred_revenue" not in balances[longer]  # every night closed: nothing deferred
    assert -balances[longer]["stay_revenue"] - balances[longer]["tax_payable"] == 3 * 7000
    assert "deferred_revenue" not in balances[cancelled]
    assert live == rebuild(db_url, app, "ledger")


def test_an_old_booking_without_a_breakdown_keeps_the_even_split(
    db_url: str, app: Reservations, clock: Clock
) -> None:
    """Held and amended by the code before rate plans (the amendment carries no prices)."""
    facility, pool = weekend_facility(app)
    old = uuid4()
    store_v1_booking(app, old, facility_id=facility, pool_id=pool)  # 1 June, 2 nights, 24.00
    app.bookings.confirm(booking_id=old, context=context())
    clock.advance(timedelta(days=1))
    app.finance.close_day(facility_id=facility, business_date=TODAY, context=context())

    catch_up(db_url, app, "ledger", page_size=1)

    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT quantity, night_prices, balances FROM ledger_bookings WHERE booking_id = %s",
            (old,),
        ).fetchone()
    assert row == (1, None, {"accounts_receivable": 2400, "deferred_revenue": -1200,
                             "stay_revenue": -1000, "tax_payable": -200})  # fmt: skip
