"""Who did what, when: every event carries its cause and the injected clock's time."""

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext

from .support import START, Clock, HoldFn, night


def all_events(app: Reservations) -> list[DomainEventProtocol[UUID]]:
    stored = app.recorder.select_notifications(start=1, limit=10_000)
    return [app.mapper.to_domain_event(n) for n in stored]


def busy_day(
    app: Reservations, clock: Clock, cause: Callable[[], Cause], hold: HoldFn, pool_id: UUID
) -> None:
    """One of every command, a minute apart, each with the cause `cause()` gives."""
    kept = hold(nights=2, cause=cause()).id
    clock.advance(minutes=1)
    app.bookings.confirm(booking_id=kept, context=CommandContext(cause=cause()))
    clock.advance(minutes=1)
    app.bookings.amend(booking_id=kept, departure=night(3), context=CommandContext(cause=cause()))
    clock.advance(minutes=1)
    app.bookings.record_payment(
        booking_id=kept,
        amount=3000,
        currency="EUR",
        method="card",
        context=CommandContext(cause=cause()),
    )
    clock.advance(minutes=1)
    app.bookings.request_refund(
        booking_id=kept,
        amount=100,
        currency="EUR",
        refund_id="r",
        context=CommandContext(cause=cause()),
    )
    clock.advance(minutes=1)
    app.bookings.settle_refund(
        booking_id=kept, refund_id="r", succeeded=True, context=CommandContext(cause=cause())
    )
    clock.advance(minutes=1)
    app.bookings.check_in(booking_id=kept, context=CommandContext(cause=cause()))
    clock.advance(minutes=1)
    app.bookings.check_out(booking_id=kept, context=CommandContext(cause=cause()))
    clock.advance(minutes=1)
    lapsed = hold(first=4, cause=cause()).id
    clock.advance(minutes=20)
    app.bookings.expire(booking_id=lapsed, context=CommandContext(cause=cause()))
    clock.advance(minutes=1)
    app.bookings.cancel(
        booking_id=hold(first=5, cause=cause()).id, context=CommandContext(cause=cause())
    )
    clock.advance(minutes=1)
    missed = hold(first=0, cause=cause()).id
    app.bookings.confirm(booking_id=missed, context=CommandContext(cause=cause()))
    app.bookings.record_no_show(booking_id=missed, context=CommandContext(cause=cause()))
    clock.advance(minutes=1)
    app.catalogue.change_capacity(
        pool_id=pool_id,
        first_night=night(6),
        last_night=night(8),
        capacity=5,
        context=CommandContext(cause=cause()),
    )


def test_every_event_records_principal_channel_request_id_and_correlation_id(
    app: Reservations, clock: Clock, hold: HoldFn, pool_id: UUID
) -> None:
    issued: list[Cause] = []

    def fresh_cause() -> Cause:
        n = len(issued)
        issued.append(
            Cause(principal=f"user-{n}", channel="ops", request_id=f"cmd-{n}", correlation_id="c")
        )
        return issued[-1]

    busy_day(app, clock, fresh_cause, hold, pool_id)

    events = all_events(app)
    assert {
        "Facility.Registered",
        "Pool.Added",
        "Pool.CapacityChanged",
        "BookingReference.Claimed",
        "Booking.Held",
        "Booking.Confirmed",
        "Booking.Amended",
        "Booking.PaymentRecorded",
        "Booking.RefundRequested",
        "Booking.RefundSucceeded",
        "Booking.CheckedIn",
        "Booking.CheckedOut",
        "Booking.Expired",
        "Booking.Cancelled",
        "Booking.NoShowRecorded",
        "NightInventory.Opened",
        "NightInventory.Allocated",
        "NightInventory.Firmed",
        "NightInventory.Released",
        "NightInventory.CapacitySet",
    } <= {type(e).__qualname__ for e in events}
    for event in events:
        recorded = event.cause  # type: ignore[attr-defined]
        assert set(recorded) == {"principal", "channel", "request_id", "correlation_id"}, event
        assert all(recorded.values()), event
    # Every command's own cause is on its events, and on no other command's events.
    moments: dict[str, set[datetime]] = {}
    for event in events:
        moments.setdefault(event.cause["request_id"], set()).add(event.timestamp)  # type: ignore[attr-defined]
    assert {c.request_id for c in issued} <= set(moments)
    assert {k: v for k, v in moments.items() if len(v) != 1} == {}


def test_a_booking_records_the_channel_that_held_it(
    app: Reservations, hold: HoldFn, cause: Cause
) -> None:
    booking_id = hold().id

    assert app.bookings.booking(booking_id).channel == cause.channel


def test_event_timestamps_come_from_the_injected_clock(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    busy_day(app, clock, lambda: cause, hold, pool_id)

    events = all_events(app)
    moments = [e.timestamp for e in events]
    assert moments == sorted(moments)
    assert moments[0] == START
    assert moments[-1] == clock.now
    assert all(START <= m <= clock.now for m in moments)
    assert all(m.tzinfo is not None and m.utcoffset() == UTC.utcoffset(m) for m in moments)
    assert {m.second for m in moments} == {0}  # the wall clock would never land on whole minutes


def test_an_aggregate_created_and_modified_times_are_the_clock_times(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold().id
    clock.set(datetime(2030, 6, 1, 9, 7, 30, tzinfo=UTC))

    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))

    booking = app.bookings.booking(booking_id)
    assert booking.created_on == START
    assert booking.modified_on == datetime(2030, 6, 1, 9, 7, 30, tzinfo=UTC)
