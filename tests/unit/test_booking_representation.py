"""A booking's balance due means what its ledger statement's does, in every status,
and the bookings projection holds the same row as the aggregate shows (`row_of`)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest
from eventsourcing.domain import AggregateEvent

from berth.domain.application import Reservations
from berth.domain.cancellation import CancellationPolicy
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.projections import bookings

from .conftest import PoolFactory
from .ledger_support import Ledger
from .support import Clock, stay

Scenario = Callable[[Reservations, UUID, Cause, Clock], UUID]


def _held(app: Reservations, pool_id: UUID, cause: Cause) -> UUID:
    return app.bookings.hold(
        pool_id=pool_id,
        stay=stay(0, 2),
        quantity=1,
        guest={"name": "Ada Lovelace"},
        context=CommandContext(cause=cause),
    ).id


def _confirmed(app: Reservations, pool_id: UUID, cause: Cause) -> UUID:
    booking_id = _held(app, pool_id, cause)
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


def _pay(app: Reservations, booking_id: UUID, cause: Cause, amount: int) -> None:
    app.bookings.record_payment(
        booking_id=booking_id,
        amount=amount,
        currency="EUR",
        method="card",
        context=CommandContext(cause=cause),
    )


def held_and_paid(app: Reservations, pool_id: UUID, cause: Cause, clock: Clock) -> UUID:
    booking_id = _held(app, pool_id, cause)
    _pay(app, booking_id, cause, 500)
    return booking_id


def confirmed_amended_and_part_paid(
    app: Reservations, pool_id: UUID, cause: Cause, clock: Clock
) -> UUID:
    booking_id = _confirmed(app, pool_id, cause)
    app.bookings.amend(
        booking_id=booking_id,
        departure=stay(0, 3).departure,
        quantity=2,
        context=CommandContext(cause=cause),
    )
    _pay(app, booking_id, cause, 1500)
    return booking_id


def checked_out_with_refunds(app: Reservations, pool_id: UUID, cause: Cause, clock: Clock) -> UUID:
    booking_id = _confirmed(app, pool_id, cause)
    _pay(app, booking_id, cause, 3000)
    app.bookings.check_in(booking_id=booking_id, context=CommandContext(cause=cause))
    for refund_id, amount in (("r-1", 400), ("r-2", 300), ("r-3", 200)):
        app.bookings.request_refund(
            booking_id=booking_id,
            amount=amount,
            currency="EUR",
            refund_id=refund_id,
            context=CommandContext(cause=cause),
        )
    app.bookings.settle_refund(
        booking_id=booking_id, refund_id="r-1", succeeded=True, context=CommandContext(cause=cause)
    )
    app.bookings.settle_refund(
        booking_id=booking_id, refund_id="r-2", succeeded=False, context=CommandContext(cause=cause)
    )
    app.bookings.check_out(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


def no_show(app: Reservations, pool_id: UUID, cause: Cause, clock: Clock) -> UUID:
    booking_id = _confirmed(app, pool_id, cause)
    app.bookings.record_no_show(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


def cancelled_with_a_fee_and_overpaid(
    app: Reservations, pool_id: UUID, cause: Cause, clock: Clock
) -> UUID:
    booking_id = _confirmed(app, pool_id, cause)
    _pay(app, booking_id, cause, 2000)
    app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


def cancelled_while_held(app: Reservations, pool_id: UUID, cause: Cause, clock: Clock) -> UUID:
    booking_id = held_and_paid(app, pool_id, cause, clock)
    app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


def expired_after_a_payment(app: Reservations, pool_id: UUID, cause: Cause, clock: Clock) -> UUID:
    booking_id = held_and_paid(app, pool_id, cause, clock)
    clock.advance(hours=1)
    app.bookings.expire(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


SCENARIOS = [
    held_and_paid,
    confirmed_amended_and_part_paid,
    checked_out_with_refunds,
    no_show,
    cancelled_with_a_fee_and_overpaid,
    cancelled_while_held,
    expired_after_a_payment,
]


@pytest.fixture
def fee_pool(make_pool: PoolFactory) -> UUID:
    """10.00 a night; half the total as a fee when cancelled within 48 hours of arrival."""
    return make_pool(capacity=5, cancellation=CancellationPolicy(fee_percent=50))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_the_balance_due_is_the_statements_in_every_status(
    app: Reservations, fee_pool: UUID, cause: Cause, clock: Clock, scenario: Scenario
) -> None:
    booking_id = scenario(app, fee_pool, cause, clock)
    ledger = Ledger(app)
    ledger.sync()
    booking = app.bookings.booking(booking_id)
    assert booking.balance_due() == ledger.statement(booking_id).balance_due
    assert booking.charges() == ledger.statement(booking_id).charges


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_the_projection_holds_the_row_the_aggregate_shows(
    app: Reservations, fee_pool: UUID, cause: Cause, clock: Clock, scenario: Scenario
) -> None:
    booking_id = scenario(app, fee_pool, cause, clock)
    page = []
    for notification in app.recorder.select_notifications(start=1, limit=1000):
        if notification.topic in bookings.TOPICS:
            event = app.mapper.to_domain_event(notification)
            assert isinstance(event, AggregateEvent)
            page.append((notification.id, event))
    change = bookings.fold(page)[booking_id]
    assert change.row() == bookings.row_of(
        app.bookings.booking(booking_id), position=change.position
    )


def test_a_hold_is_charged_only_from_confirmation(
    app: Reservations, pool_id: UUID, cause: Cause
) -> None:
    booking_id = _held(app, pool_id, cause)
    assert (
        app.bookings.booking(booking_id).charges(),
        app.bookings.booking(booking_id).balance_due(),
    ) == (0, 0)
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    assert app.bookings.booking(booking_id).balance_due() == 2000
