"""Payments and refunds on a booking: same currency, never refund more than was paid."""

from uuid import UUID, uuid4

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import (
    CurrencyMismatch,
    InvalidPayment,
    RefundExceedsPaid,
    UnknownRefund,
)
from berth.domain.booking_commands import UnknownBooking
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext

from .support import HoldFn, store_size


@pytest.fixture
def booking_id(app: Reservations, cause: Cause, hold: HoldFn) -> UUID:
    """A confirmed booking of two nights at 10.00 EUR: 20.00 EUR due."""
    booking_id = hold(nights=2).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


def pay(app: Reservations, booking_id: UUID, cause: Cause, amount: int, **more: object) -> None:
    app.bookings.record_payment(
        booking_id=booking_id,
        amount=amount,
        currency="EUR",
        method="card",
        context=CommandContext(cause=cause),
        **more,
    )  # type: ignore[arg-type]


def test_a_payment_reduces_the_balance_due(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    assert app.bookings.booking(booking_id).balance_due() == 2000

    pay(app, booking_id, cause, 1500)
    pay(app, booking_id, cause, 500)

    booking = app.bookings.booking(booking_id)
    assert booking.paid == 2000
    assert booking.balance_due() == 0


def test_a_payment_in_another_currency_is_refused_and_stores_nothing(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    before = store_size(app)

    with pytest.raises(CurrencyMismatch):
        app.bookings.record_payment(
            booking_id=booking_id,
            amount=2000,
            currency="GBP",
            method="card",
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == before
    assert app.bookings.booking(booking_id).paid == 0


@pytest.mark.parametrize("amount", [0, -1])
def test_a_payment_must_be_positive(
    app: Reservations, cause: Cause, booking_id: UUID, amount: int
) -> None:
    before = store_size(app)

    with pytest.raises(InvalidPayment):
        pay(app, booking_id, cause, amount)

    assert store_size(app) == before


def test_a_payment_on_an_unknown_booking_is_refused(app: Reservations, cause: Cause) -> None:
    with pytest.raises(UnknownBooking):
        pay(app, uuid4(), cause, 100)


def test_a_refund_exceeding_what_was_paid_is_refused_and_stores_nothing(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    pay(app, booking_id, cause, 1000)
    before = store_size(app)

    with pytest.raises(RefundExceedsPaid):
        app.bookings.request_refund(
            booking_id=booking_id, amount=1001, currency="EUR", context=CommandContext(cause=cause)
        )

    assert store_size(app) == before


def test_pending_refunds_count_against_what_can_still_be_refunded(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    pay(app, booking_id, cause, 1000)
    app.bookings.request_refund(
        booking_id=booking_id, amount=600, currency="EUR", context=CommandContext(cause=cause)
    )

    assert app.bookings.booking(booking_id).refundable() == 400
    with pytest.raises(RefundExceedsPaid):
        app.bookings.request_refund(
            booking_id=booking_id, amount=401, currency="EUR", context=CommandContext(cause=cause)
        )
    app.bookings.request_refund(
        booking_id=booking_id, amount=400, currency="EUR", context=CommandContext(cause=cause)
    )
    assert app.bookings.booking(booking_id).refundable() == 0


def test_a_refund_in_another_currency_is_refused(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    pay(app, booking_id, cause, 1000)

    with pytest.raises(CurrencyMismatch):
        app.bookings.request_refund(
            booking_id=booking_id, amount=100, currency="USD", context=CommandContext(cause=cause)
        )


@pytest.mark.parametrize("amount", [0, -5])
def test_a_refund_must_be_positive(
    app: Reservations, cause: Cause, booking_id: UUID, amount: int
) -> None:
    pay(app, booking_id, cause, 1000)

    with pytest.raises(InvalidPayment):
        app.bookings.request_refund(
            booking_id=booking_id,
            amount=amount,
            currency="EUR",
            context=CommandContext(cause=cause),
        )


def test_a_refund_that_succeeds_is_counted_as_refunded(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    pay(app, booking_id, cause, 2000)
    app.bookings.request_refund(
        booking_id=booking_id,
        amount=700,
        currency="EUR",
        refund_id="r-1",
        context=CommandContext(cause=cause),
    )

    app.bookings.settle_refund(
        booking_id=booking_id, refund_id="r-1", succeeded=True, context=CommandContext(cause=cause)
    )

    booking = app.bookings.booking(booking_id)
    assert booking.refunded == 700
    assert booking.pending_refunds == {}
    assert booking.refundable() == 1300
    assert booking.balance_due() == 700


def test_a_refund_that_fails_can_be_asked_for_again(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    pay(app, booking_id, cause, 2000)
    app.bookings.request_refund(
        booking_id=booking_id,
        amount=2000,
        currency="EUR",
        refund_id="r-1",
        context=CommandContext(cause=cause),
    )

    app.bookings.settle_refund(
        booking_id=booking_id,
        refund_id="r-1",
        succeeded=False,
        reason="card closed",
        context=CommandContext(cause=cause),
    )

    booking = app.bookings.booking(booking_id)
    assert booking.refunded == 0
    assert booking.refundable() == 2000
    app.bookings.request_refund(
        booking_id=booking_id, amount=2000, currency="EUR", context=CommandContext(cause=cause)
    )


def test_a_refund_can_be_settled_only_once(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    pay(app, booking_id, cause, 2000)
    app.bookings.request_refund(
        booking_id=booking_id,
        amount=500,
        currency="EUR",
        refund_id="r-1",
        context=CommandContext(cause=cause),
    )
    app.bookings.settle_refund(
        booking_id=booking_id, refund_id="r-1", succeeded=True, context=CommandContext(cause=cause)
    )
    before = store_size(app)

    with pytest.raises(UnknownRefund):
        app.bookings.settle_refund(
            booking_id=booking_id,
            refund_id="r-1",
            succeeded=True,
            context=CommandContext(cause=cause),
        )
    with pytest.raises(UnknownRefund):
        app.bookings.settle_refund(
            booking_id=booking_id,
            refund_id="nope",
            succeeded=False,
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == before
    assert app.bookings.booking(booking_id).refunded == 500


def test_a_cancelled_booking_owes_only_its_fee_and_the_rest_is_refundable(
    app: Reservations, cause: Cause, booking_id: UUID
) -> None:
    pay(app, booking_id, cause, 2000)

    app.bookings.cancel(
        booking_id=booking_id, context=CommandContext(cause=cause)
    )  # arrival today: inside the 48 h window

    booking = app.bookings.booking(booking_id)
    assert booking.charges() == booking.cancellation_fee == 2000  # default policy: 100 %
    assert booking.balance_due() == 0
