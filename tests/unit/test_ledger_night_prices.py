"""Recognition follows the nights' prices as sold: a weekend plan's nights, amended, cancelled.

The test days: 1 June 2030 is a Saturday, 2 June a Sunday, 3 June a Monday. The
plan `weekend` sells a space at 30.00 on Saturday and Sunday nights and 10.00
on the others, 20% tax included.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.cancellation import CancellationPolicy
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.pricing import PlanTerms
from berth.projections.ledger_books import Account

from .conftest import PoolFactory
from .ledger_support import Ledger, lines, next_event
from .support import Clock, night, stay

WEEKEND = PlanTerms(base_price=1000, weekday_prices={"sat": 3000, "sun": 3000})


@pytest.fixture
def ledger(app: Reservations) -> Ledger:
    return Ledger(app)


@pytest.fixture
def weekend_pool(app: Reservations, make_pool: PoolFactory, cause: Cause) -> UUID:
    pool_id = make_pool(
        capacity=5,
        nightly_price=1000,
        cancellation=CancellationPolicy(free_until_hours=0, fee_percent=0),
    )
    app.catalogue.set_tax_rate(pool_id=pool_id, rate_bp=2000, context=CommandContext(cause=cause))
    app.pricing.create_rate_plan(
        pool_id=pool_id, code="weekend", name="Weekend", terms=WEEKEND,
        context=CommandContext(cause=cause),
    )  # fmt: skip
    return pool_id


def hold(app: Reservations, pool_id: UUID, cause: Cause, nights: int, quantity: int = 1) -> UUID:
    return app.bookings.hold(
        pool_id=pool_id, stay=stay(0, nights), quantity=quantity, guest={"name": "Ada"},
        rate_plan="weekend", hold_for=timedelta(hours=24), context=CommandContext(cause=cause),
    ).id  # fmt: skip


def close(app: Reservations, clock: Clock, facility_id: UUID, cause: Cause, offset: int) -> None:
    """The morning after night `offset`, its day is closed."""
    clock.set(max(clock.now, clock.now.replace(day=1) + timedelta(days=offset + 1)))
    app.finance.close_day(
        facility_id=facility_id, business_date=night(offset), context=CommandContext(cause=cause)
    )


def test_each_closed_night_recognises_its_own_price_times_the_quantity(
    app: Reservations, ledger: Ledger, weekend_pool: UUID, cause: Cause, facility_id: UUID,
    clock: Clock,
) -> None:  # fmt: skip
    booking_id = hold(app, weekend_pool, cause, nights=3, quantity=2)  # 2 x (30 + 30 + 10)
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    ledger.sync()

    recognised = []
    for offset in range(3):
        close(app, clock, facility_id, cause, offset)
        entries = ledger.sync()
        assert {entry.business_date for entry in entries} == {night(offset)}
        recognised.append(lines(entries))

    assert recognised == [
        [("recognition", "deferred_revenue", 6000), ("recognition", "stay_revenue", -5000),
         ("recognition", "tax_payable", -1000)],
        [("recognition", "deferred_revenue", 6000), ("recognition", "stay_revenue", -5000),
         ("recognition", "tax_payable", -1000)],
        [("recognition", "deferred_revenue", 2000), ("recognition", "stay_revenue", -1667),
         ("recognition", "tax_payable", -333)],
    ]  # fmt: skip
    assert ledger.balances(booking_id) == {
        "accounts_receivable": 14000, "stay_revenue": 11667, "tax_payable": 2333,
    }  # fmt: skip


def test_amended_nights_keep_their_prices_and_a_rise_after_a_closed_night_is_priced_by_night(
    app: Reservations, ledger: Ledger, weekend_pool: UUID, cause: Cause, facility_id: UUID,
    clock: Clock,
) -> None:  # fmt: skip
    booking_id = hold(app, weekend_pool, cause, nights=2)  # Saturday and Sunday: 60.00
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    app.bookings.amend(
        booking_id=booking_id, departure=night(3), context=CommandContext(cause=cause)
    )  # Monday night added at 10.00; Saturday and Sunday keep their 30.00
    close(app, clock, facility_id, cause, 0)
    ledger.sync()
    assert ledger.balance(Account.DEFERRED, booking_id) == 4000  # Sunday 30.00 + Monday 10.00

    app.bookings.amend(booking_id=booking_id, quantity=2, context=CommandContext(cause=cause))

    assert lines(ledger.sync()) == [
        ("amendment", "accounts_receivable", 7000),
        ("amendment", "deferred_revenue", -4000),  # Sunday and Monday's second space
        ("amendment", "stay_revenue", -2500),  # Saturday's second space, at once
        ("amendment", "tax_payable", -500),
    ]
    cut = next_event(
        app, booking_id, Booking.Amended, arrival=night(0), departure=night(1), quantity=2,
        guest={"name": "Ada"}, plates=[], total=6000, previous_total=14000, night_prices=[3000],
    )  # fmt: skip
    assert lines(ledger.inject(cut)) == [
        ("amendment", "deferred_revenue", 8000),
        ("amendment", "accounts_receivable", -8000),
    ]  # back to Saturday alone: its closed night stays recognised at 2 x 30.00
    assert ledger.balances(booking_id) == {
        "accounts_receivable": 6000, "stay_revenue": 5000, "tax_payable": 1000,
    }  # fmt: skip
    assert ledger.trial_balance() == 0


def test_a_booking_confirmed_after_its_saturday_was_closed_recognises_that_night_at_its_price(
    app: Reservations, ledger: Ledger, weekend_pool: UUID, cause: Cause, facility_id: UUID,
    clock: Clock,
) -> None:  # fmt: skip
    booking_id = hold(app, weekend_pool, cause, nights=3)  # 30 + 30 + 10
    clock.advance(hours=23)  # 09:00 on 2 June in London: 1 June is over, the hold is live
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    assert ledger.sync() == []

    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))

    assert lines(ledger.sync()) == [
        ("confirmation", "accounts_receivable", 7000),
        ("confirmation", "deferred_revenue", -7000),
        ("recognition", "deferred_revenue", 3000),
        ("recognition", "stay_revenue", -2500),
        ("recognition", "tax_payable", -500),
    ]
    assert ledger.balance(Account.DEFERRED, booking_id) == 4000  # Sunday and Monday, open
    close(app, clock, facility_id, cause, 1)
    close(app, clock, facility_id, cause, 2)
    ledger.sync()
    assert ledger.balance(Account.DEFERRED, booking_id) == 0
    assert ledger.balance(Account.STAY_REVENUE, booking_id) == 5833  # 25.00 + 25.00 + 8.33


def test_cancelling_with_a_fee_after_the_saturday_was_closed_reverses_its_30_00_and_keeps_the_fee(
    app: Reservations, ledger: Ledger, weekend_pool: UUID, cause: Cause, facility_id: UUID,
    clock: Clock,
) -> None:  # fmt: skip
    booking_id = hold(app, weekend_pool, cause, nights=3)
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    app.bookings.record_payment(
        booking_id=booking_id, amount=7000, currency="EUR", method="card",
        context=CommandContext(cause=cause),
    )  # fmt: skip
    close(app, clock, facility_id, cause, 0)
    ledger.sync()

    entries = ledger.inject(next_event(app, booking_id, Booking.Cancelled, fee=1000, reason=""))

    assert lines(entries) == [
        ("cancellation", "deferred_revenue", 4000),
        ("cancellation", "stay_revenue", 2500),
        ("cancellation", "tax_payable", 500),
        ("cancellation", "cancellation_fee_revenue", -1000),
        ("cancellation", "accounts_receivable", -6000),
        ("reclassification", "accounts_receivable", 6000),
        ("reclassification", "refunds_payable", -6000),
    ]
    assert ledger.balances() == {
        "cash": 7000, "cancellation_fee_revenue": 1000, "refunds_payable": 6000,
    }  # fmt: skip
    assert ledger.trial_balance() == 0


def test_reversing_a_weekend_nights_recognition_puts_back_what_its_price_says(
    app: Reservations, ledger: Ledger, weekend_pool: UUID, cause: Cause, facility_id: UUID,
    clock: Clock,
) -> None:  # fmt: skip
    booking_id = hold(app, weekend_pool, cause, nights=3)
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    ledger.sync()
    close(app, clock, facility_id, cause, 0)
    (recognition,) = ledger.sync()

    app.finance.reverse_entry(
        facility_id=facility_id, entry_id=recognition.entry_id, reason="wrong",
        context=CommandContext(cause=cause),
    )  # fmt: skip

    ledger.sync()
    assert ledger.balance(Account.DEFERRED, booking_id) == 4000  # Sunday and Monday: 30 + 10
    assert ledger.balance(Account.STAY_REVENUE, booking_id) == 2500
