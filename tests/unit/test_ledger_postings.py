"""Posting rules of the ledger, one worked example per rule (amounts in minor units)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.cancellation import CancellationPolicy
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.projections.ledger_books import Account, entry_id, tax_included

from .conftest import PoolFactory
from .ledger_support import Ledger, lines, next_event
from .support import Clock, night, stay

FREE = CancellationPolicy(free_until_hours=0, fee_percent=0)


@pytest.fixture
def ledger(app: Reservations) -> Ledger:
    return Ledger(app)


@pytest.fixture
def taxed_pool(app: Reservations, make_pool: PoolFactory, cause: Cause) -> UUID:
    """20.00 a night, 20% tax included, capacity 5, free cancellation until arrival."""
    pool_id = make_pool(capacity=5, nightly_price=2000, cancellation=FREE)
    app.catalogue.set_tax_rate(pool_id=pool_id, rate_bp=2000, context=CommandContext(cause=cause))
    return pool_id


def book(
    app: Reservations,
    pool_id: UUID,
    cause: Cause,
    *,
    first: int = 0,
    nights: int = 3,
    quantity: int = 1,
) -> UUID:
    """A confirmed booking of `nights` nights from today + `first`."""
    held = app.bookings.hold(
        pool_id=pool_id, stay=stay(first, nights), quantity=quantity, guest={"name": "Ada"},
        context=CommandContext(cause=cause),
    )  # fmt: skip
    app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=cause))
    return held.id


def pay(app: Reservations, booking_id: UUID, cause: Cause, amount: int) -> None:
    app.bookings.record_payment(
        booking_id=booking_id,
        amount=amount,
        currency="EUR",
        method="card",
        context=CommandContext(cause=cause),
    )


@pytest.mark.parametrize(
    ("gross", "rate_bp", "tax"),
    [(2000, 2000, 333), (6000, 2000, 1000), (1000, 0, 0), (1, 2000, 0), (12000, 2100, 2083)],
)
def test_tax_included_in_a_gross_price_is_gross_less_gross_over_one_plus_rate_rounded(
    gross: int, rate_bp: int, tax: int
) -> None:
    assert tax_included(gross, rate_bp) == tax
    assert tax_included(-gross, rate_bp) == -tax


def test_a_held_booking_posts_nothing_even_when_amended_or_expired(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause, clock: Clock
) -> None:
    held = app.bookings.hold(
        pool_id=taxed_pool,
        stay=stay(1, 2),
        quantity=1,
        guest={"name": "Ada"},
        context=CommandContext(cause=cause),
    )
    app.bookings.amend(booking_id=held.id, quantity=2, context=CommandContext(cause=cause))
    clock.advance(hours=1)
    app.bookings.expire(booking_id=held.id, context=CommandContext(cause=cause))

    assert ledger.sync() == []


def test_confirming_three_nights_at_20_00_books_60_00_receivable_against_deferred_revenue(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause
) -> None:
    booking_id = book(app, taxed_pool, cause, first=1)

    entries = ledger.sync()

    assert lines(entries) == [
        ("confirmation", "accounts_receivable", 6000),
        ("confirmation", "deferred_revenue", -6000),
    ]
    assert entries[0].booking_id == booking_id
    assert ledger.balances(booking_id) == {"accounts_receivable": 6000, "deferred_revenue": 6000}


def test_a_payment_of_60_00_moves_receivable_to_cash(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause
) -> None:
    booking_id = book(app, taxed_pool, cause, first=1)
    ledger.sync()

    pay(app, booking_id, cause, 6000)

    assert lines(ledger.sync()) == [
        ("payment", "cash", 6000),
        ("payment", "accounts_receivable", -6000),
    ]
    assert ledger.balances(booking_id) == {"cash": 6000, "deferred_revenue": 6000}


def test_amending_two_nights_at_20_00_to_three_posts_only_the_20_00_difference(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause
) -> None:
    booking_id = book(app, taxed_pool, cause, first=1, nights=2)
    ledger.sync()

    app.bookings.amend(
        booking_id=booking_id, departure=night(4), context=CommandContext(cause=cause)
    )
    assert lines(ledger.sync()) == [
        ("amendment", "accounts_receivable", 2000),
        ("amendment", "deferred_revenue", -2000),
    ]

    app.bookings.amend(
        booking_id=booking_id, departure=night(2), context=CommandContext(cause=cause)
    )
    assert lines(ledger.sync()) == [
        ("amendment", "deferred_revenue", 4000),
        ("amendment", "accounts_receivable", -4000),
    ]
    assert ledger.balances(booking_id) == {"accounts_receivable": 2000, "deferred_revenue": 2000}


def test_closing_a_day_recognises_one_night_at_20_00_as_16_67_revenue_and_3_33_tax(
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=3)
    ledger.sync()

    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )

    entries = ledger.sync()
    assert lines(entries) == [
        ("recognition", "deferred_revenue", 2000),
        ("recognition", "stay_revenue", -1667),
        ("recognition", "tax_payable", -333),
    ]
    assert entries[0].business_date == night(0)
    assert ledger.balances(booking_id) == {
        "accounts_receivable": 6000,
        "deferred_revenue": 4000,
        "stay_revenue": 1667,
        "tax_payable": 333,
    }


def test_a_stay_of_10_00_a_night_split_unevenly_leaves_the_remainder_to_the_last_night(
    app: Reservations,
    ledger: Ledger,
    make_pool: PoolFactory,
    cause: Cause,
    clock: Clock,
    facility_id: UUID,
) -> None:
    pool_id = make_pool(nightly_price=1000)
    booking_id = book(app, pool_id, cause, first=0, nights=3)
    pay(app, booking_id, cause, 1)
    ledger.sync()
    # An amendment of 30.00 down to 10.01 is not a price the pool makes: inject it.
    cut = next_event(
        app, booking_id, Booking.Amended, arrival=night(0), departure=night(3), quantity=1,
        guest={"name": "Ada"}, plates=[], total=1001, previous_total=3000,
    )  # fmt: skip
    ledger.inject(cut)
    shares = []
    for offset in range(3):
        clock.set(clock.now.replace(day=1) + timedelta(days=offset + 1))
        app.finance.close_day(
            facility_id=facility_id,
            business_date=night(offset),
            context=CommandContext(cause=cause),
        )
        ledger.sync()
        shares.append(-ledger.signed(Account.STAY_REVENUE) - sum(shares))
    assert shares == [333, 334, 334]  # 1001 // 3, 668 // 2, the rest


def test_a_booking_confirmed_after_its_night_was_closed_recognises_that_night_at_once(
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    held = app.bookings.hold(
        pool_id=taxed_pool, stay=stay(0, 2), quantity=1, guest={"name": "Ada"},
        hold_for=timedelta(hours=24), context=CommandContext(cause=cause),
    )  # fmt: skip
    clock.advance(hours=23)  # 09:00 on 2 June in London: 1 June is over, the hold is live
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    assert ledger.sync() == []

    app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=cause))

    assert lines(ledger.sync()) == [
        ("confirmation", "accounts_receivable", 4000),
        ("confirmation", "deferred_revenue", -4000),
        ("recognition", "deferred_revenue", 2000),
        ("recognition", "stay_revenue", -1667),
        ("recognition", "tax_payable", -333),
    ]


def test_three_nights_at_20_00_with_20_percent_tax_paid_one_night_consumed_then_cancelled_with_a_10_00_fee_reverses_revenue_keeps_the_fee_and_owes_the_guest_50_00(  # noqa: E501
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=3)
    pay(app, booking_id, cause, 6000)
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    ledger.sync()

    entries = ledger.inject(next_event(app, booking_id, Booking.Cancelled, fee=1000, reason=""))

    assert lines(entries) == [
        ("cancellation", "deferred_revenue", 4000),
        ("cancellation", "stay_revenue", 1667),
        ("cancellation", "tax_payable", 333),
        ("cancellation", "cancellation_fee_revenue", -1000),
        ("cancellation", "accounts_receivable", -5000),
        ("reclassification", "accounts_receivable", 5000),
        ("reclassification", "refunds_payable", -5000),
    ]
    assert ledger.balances() == {
        "cash": 6000,
        "cancellation_fee_revenue": 1000,
        "refunds_payable": 5000,
    }
    assert ledger.trial_balance() == 0
    assert ledger.statement(booking_id).balance_due == -5000


def test_a_refund_of_50_00_to_a_guest_owed_50_00_pays_refunds_payable_out_of_cash(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause, clock: Clock
) -> None:
    booking_id = book(app, taxed_pool, cause, first=5, nights=3)
    pay(app, booking_id, cause, 6000)
    app.bookings.cancel(
        booking_id=booking_id, context=CommandContext(cause=cause)
    )  # free: the whole 60.00 is owed back
    app.bookings.request_refund(
        booking_id=booking_id, amount=6000, currency="EUR", context=CommandContext(cause=cause)
    )
    refund_id = next(iter(app.bookings.booking(booking_id).pending_refunds))
    ledger.sync()

    app.bookings.settle_refund(
        booking_id=booking_id,
        refund_id=refund_id,
        succeeded=True,
        context=CommandContext(cause=cause),
    )

    assert lines(ledger.sync()) == [
        ("refund", "refunds_payable", 6000),
        ("refund", "cash", -6000),
    ]
    assert ledger.balances(booking_id) == {}


def test_a_refund_of_5_00_on_a_paid_up_stay_is_owed_again_as_receivable(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause
) -> None:
    booking_id = book(app, taxed_pool, cause, first=1, nights=1)
    pay(app, booking_id, cause, 2000)
    app.bookings.request_refund(
        booking_id=booking_id,
        amount=500,
        currency="EUR",
        refund_id="r1",
        context=CommandContext(cause=cause),
    )
    assert [e.kind for e in ledger.sync()] == ["confirmation", "payment"]  # a request: nothing

    app.bookings.settle_refund(
        booking_id=booking_id, refund_id="r1", succeeded=True, context=CommandContext(cause=cause)
    )

    assert lines(ledger.sync()) == [
        ("refund", "accounts_receivable", 500),
        ("refund", "cash", -500),
    ]
    assert (
        ledger.statement(booking_id).balance_due
        == app.bookings.booking(booking_id).balance_due()
        == 500
    )


def test_a_failed_refund_posts_nothing(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause
) -> None:
    booking_id = book(app, taxed_pool, cause, first=1, nights=1)
    pay(app, booking_id, cause, 2000)
    app.bookings.request_refund(
        booking_id=booking_id,
        amount=500,
        currency="EUR",
        refund_id="r1",
        context=CommandContext(cause=cause),
    )
    ledger.sync()

    app.bookings.settle_refund(
        booking_id=booking_id, refund_id="r1", succeeded=False, context=CommandContext(cause=cause)
    )

    assert ledger.sync() == []


def test_an_overstay_of_12_00_at_20_percent_tax_is_10_00_revenue_and_2_00_tax(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=1)
    ledger.sync()
    charge = next_event(app, booking_id, Booking.OverstayCharged, hours=2, amount=1200,
                        currency="EUR")  # fmt: skip

    assert lines(ledger.inject(charge)) == [
        ("overstay", "accounts_receivable", 1200),
        ("overstay", "overstay_revenue", -1000),
        ("overstay", "tax_payable", -200),
    ]


def test_a_payment_on_a_hold_that_expires_is_owed_back_to_the_guest(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause, clock: Clock
) -> None:
    held = app.bookings.hold(
        pool_id=taxed_pool,
        stay=stay(1, 1),
        quantity=1,
        guest={"name": "Ada"},
        context=CommandContext(cause=cause),
    )
    pay(app, held.id, cause, 2000)
    clock.advance(hours=1)
    app.bookings.expire(booking_id=held.id, context=CommandContext(cause=cause))

    assert lines(ledger.sync()) == [
        ("payment", "cash", 2000),
        ("payment", "accounts_receivable", -2000),
        ("reclassification", "accounts_receivable", 2000),
        ("reclassification", "refunds_payable", -2000),
    ]
    assert (
        ledger.statement(held.id).balance_due
        == app.bookings.booking(held.id).balance_due()
        == -2000
    )


def test_a_payment_after_cancellation_beyond_the_fee_is_owed_back_to_the_guest(
    app: Reservations, ledger: Ledger, make_pool: PoolFactory, cause: Cause
) -> None:
    pool_id = make_pool(nightly_price=2000, cancellation=CancellationPolicy(fee_percent=50))
    booking_id = book(app, pool_id, cause, first=0, nights=1)
    app.bookings.cancel(
        booking_id=booking_id, context=CommandContext(cause=cause)
    )  # within 48 h: a 10.00 fee
    ledger.sync()

    pay(app, booking_id, cause, 1500)

    assert lines(ledger.sync()) == [
        ("payment", "cash", 1500),
        ("payment", "accounts_receivable", -1000),
        ("payment", "refunds_payable", -500),
    ]
    assert (
        ledger.statement(booking_id).balance_due == app.bookings.booking(booking_id).balance_due()
    )


def test_cutting_a_stay_of_2_spaces_to_1_after_its_night_was_recognised_takes_20_00_back_from_revenue(  # noqa: E501
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=1, quantity=2)
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    ledger.sync()

    app.bookings.amend(booking_id=booking_id, quantity=1, context=CommandContext(cause=cause))

    assert lines(ledger.sync()) == [
        ("amendment", "stay_revenue", 1667),
        ("amendment", "tax_payable", 333),
        ("amendment", "accounts_receivable", -2000),
    ]
    assert ledger.balance(Account.DEFERRED) == 0
    # What stays recognised is one night's 20.00 (tax rounded each way: 16.66 + 3.34).
    assert ledger.balance(Account.STAY_REVENUE) + ledger.balance(Account.TAX_PAYABLE) == 2000


def test_raising_a_stay_to_2_spaces_after_its_only_night_was_closed_recognises_the_20_00_at_once(
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=1)
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    ledger.sync()

    app.bookings.amend(booking_id=booking_id, quantity=2, context=CommandContext(cause=cause))

    assert lines(ledger.sync()) == [
        ("amendment", "accounts_receivable", 2000),
        ("amendment", "stay_revenue", -1667),
        ("amendment", "tax_payable", -333),
    ]
    assert ledger.balances(booking_id) == {
        "accounts_receivable": 4000,
        "stay_revenue": 3334,
        "tax_payable": 666,
    }


def test_raising_three_nights_to_2_spaces_with_one_night_closed_recognises_a_third_of_the_rise_at_once(  # noqa: E501
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=3)
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    ledger.sync()

    app.bookings.amend(
        booking_id=booking_id, quantity=2, context=CommandContext(cause=cause)
    )  # 60.00 -> 120.00

    assert lines(ledger.sync()) == [
        ("amendment", "accounts_receivable", 6000),
        ("amendment", "deferred_revenue", -4000),
        ("amendment", "stay_revenue", -1667),
        ("amendment", "tax_payable", -333),
    ]
    assert ledger.balance(Account.DEFERRED, booking_id) == 8000  # two open nights of 40.00


def test_cutting_three_nights_from_2_spaces_to_1_with_one_night_closed_takes_a_third_of_the_cut_from_revenue(  # noqa: E501
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=3, quantity=2)
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    ledger.sync()

    app.bookings.amend(
        booking_id=booking_id, quantity=1, context=CommandContext(cause=cause)
    )  # 120.00 -> 60.00

    assert lines(ledger.sync()) == [
        ("amendment", "deferred_revenue", 4000),
        ("amendment", "stay_revenue", 1667),
        ("amendment", "tax_payable", 333),
        ("amendment", "accounts_receivable", -6000),
    ]
    assert ledger.balance(Account.DEFERRED, booking_id) == 4000  # two open nights of 20.00
    recognised = ledger.balance(Account.STAY_REVENUE) + ledger.balance(Account.TAX_PAYABLE)
    assert recognised == 2000  # the closed night at one space (16.66 + 3.34: rounded each way)


def test_moving_an_arrival_past_a_closed_night_takes_that_night_back_from_revenue(
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=0, nights=3)
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    ledger.sync()

    app.bookings.amend(
        booking_id=booking_id, arrival=night(1), context=CommandContext(cause=cause)
    )  # 1 June is no longer sold

    assert lines(ledger.sync()) == [
        ("amendment", "stay_revenue", 1667),
        ("amendment", "tax_payable", 333),
        ("amendment", "accounts_receivable", -2000),
    ]
    assert ledger.balances(booking_id) == {"accounts_receivable": 4000, "deferred_revenue": 4000}


def test_once_every_night_is_closed_nothing_is_deferred_whatever_the_amendments_before(
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    booking_id = book(app, taxed_pool, cause, first=1, nights=2)
    app.bookings.amend(booking_id=booking_id, quantity=3, context=CommandContext(cause=cause))
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(1), context=CommandContext(cause=cause)
    )
    app.bookings.amend(booking_id=booking_id, quantity=2, context=CommandContext(cause=cause))
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(2), context=CommandContext(cause=cause)
    )
    app.bookings.amend(
        booking_id=booking_id, quantity=3, context=CommandContext(cause=cause)
    )  # after the stay: at once
    ledger.sync()

    assert ledger.balance(Account.DEFERRED, booking_id) == 0
    revenue = ledger.balance(Account.STAY_REVENUE) + ledger.balance(Account.TAX_PAYABLE)
    assert revenue == app.bookings.booking(booking_id).total == 12000


def test_reversing_a_payment_posts_its_negation_and_leaves_the_original_as_posted(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause, facility_id: UUID
) -> None:
    booking_id = book(app, taxed_pool, cause, first=1, nights=1)
    pay(app, booking_id, cause, 2000)
    payment = ledger.sync()[-1]

    app.finance.reverse_entry(
        facility_id=facility_id,
        entry_id=payment.entry_id,
        reason="card charged back",
        context=CommandContext(cause=cause),
    )

    reversal = ledger.sync()
    assert lines(reversal) == [
        ("reversal", "cash", -2000),
        ("reversal", "accounts_receivable", 2000),
    ]
    assert reversal[0].reverses == payment.entry_id
    assert payment in ledger.entries
    statement = ledger.statement(booking_id)
    assert [line.category for line in statement.lines] == ["charge", "payment", "correction"]
    assert (statement.payments, statement.corrections, statement.balance_due) == (2000, 2000, 2000)


def test_reversing_the_recognition_of_a_closed_night_leaves_it_recognised(
    app: Reservations,
    ledger: Ledger,
    taxed_pool: UUID,
    cause: Cause,
    facility_id: UUID,
    clock: Clock,
) -> None:
    """Deferred revenue follows the booking's nights: a reversal cannot leave it deferred."""
    booking_id = book(app, taxed_pool, cause, first=0, nights=1)
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=night(0), context=CommandContext(cause=cause)
    )
    recognition = ledger.sync()[-1]
    assert recognition.kind == "recognition"

    app.finance.reverse_entry(
        facility_id=facility_id,
        entry_id=recognition.entry_id,
        reason="by mistake",
        context=CommandContext(cause=cause),
    )

    assert lines(ledger.sync()) == [
        ("reversal", "deferred_revenue", -2000),
        ("reversal", "stay_revenue", 1667),
        ("reversal", "tax_payable", 333),
        ("reversal", "deferred_revenue", 2000),
        ("reversal", "stay_revenue", -1667),
        ("reversal", "tax_payable", -333),
    ]
    assert ledger.balance(Account.DEFERRED, booking_id) == 0


def test_reversing_an_entry_never_posted_here_posts_nothing(
    app: Reservations, ledger: Ledger, cause: Cause, facility_id: UUID
) -> None:
    app.finance.reverse_entry(
        facility_id=facility_id,
        entry_id=entry_id(1, 0),
        reason="x",
        context=CommandContext(cause=cause),
    )
    assert ledger.sync() == []


def test_entries_name_their_event_and_carry_the_local_business_date_and_posting_time(
    app: Reservations, ledger: Ledger, taxed_pool: UUID, cause: Cause, clock: Clock
) -> None:
    held = app.bookings.hold(
        pool_id=taxed_pool, stay=stay(2, 1), quantity=1, guest={"name": "Ada"},
        hold_for=timedelta(hours=20), context=CommandContext(cause=cause),
    )  # fmt: skip
    clock.set(clock.now.replace(hour=23, minute=30))  # 00:30 on 2 June in London
    result = app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=cause))

    (entry,) = ledger.sync()

    assert (entry.stream_id, entry.version) == (held.id, 2)
    assert held.position < entry.position <= result.position  # the command's booking event
    assert entry.entry_id == entry_id(entry.position, 0)
    assert entry.business_date == night(1)
    assert entry.posted_at == clock.now
    assert entry.currency == "EUR"
