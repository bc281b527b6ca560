"""hold -> confirm -> (amend)* -> check in -> check out, with cancel, expire and no-show."""

from collections.abc import Callable
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import (
    ALLOWED,
    HoldExpired,
    HoldNotYetExpired,
    IllegalTransition,
    NotArrivalDay,
    Status,
)
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext

from .support import Clock, HoldFn, night, store_size

BookingIn = Callable[[Status], UUID]


@pytest.fixture
def booking_in(app: Reservations, clock: Clock, cause: Cause, hold: HoldFn) -> BookingIn:
    """A booking for tonight and tomorrow night brought into `status` by legal commands."""

    def _booking_in(status: Status) -> UUID:
        booking_id = hold(first=0, nights=2).id
        if status == Status.EXPIRED:
            clock.advance(minutes=15)
            app.bookings.expire(booking_id=booking_id, context=CommandContext(cause=cause))
        elif status == Status.CANCELLED:
            app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause))
        elif status != Status.HELD:
            app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
            if status == Status.NO_SHOW:
                app.bookings.record_no_show(
                    booking_id=booking_id, context=CommandContext(cause=cause)
                )
            elif status in (Status.CHECKED_IN, Status.CHECKED_OUT):
                app.bookings.check_in(booking_id=booking_id, context=CommandContext(cause=cause))
                if status == Status.CHECKED_OUT:
                    app.bookings.check_out(
                        booking_id=booking_id, context=CommandContext(cause=cause)
                    )
        assert app.bookings.booking(booking_id).status == status
        return booking_id

    return _booking_in


def run(app: Reservations, action: str, booking_id: UUID, cause: Cause) -> None:
    commands = {
        "confirm": lambda: app.bookings.confirm(
            booking_id=booking_id, context=CommandContext(cause=cause)
        ),
        "amend": lambda: app.bookings.amend(
            booking_id=booking_id, guest={"name": "Bo"}, context=CommandContext(cause=cause)
        ),
        "cancel": lambda: app.bookings.cancel(
            booking_id=booking_id, context=CommandContext(cause=cause)
        ),
        "expire": lambda: app.bookings.expire(
            booking_id=booking_id, context=CommandContext(cause=cause)
        ),
        "check_in": lambda: app.bookings.check_in(
            booking_id=booking_id, context=CommandContext(cause=cause)
        ),
        "check_out": lambda: app.bookings.check_out(
            booking_id=booking_id, context=CommandContext(cause=cause)
        ),
        "no_show": lambda: app.bookings.record_no_show(
            booking_id=booking_id, context=CommandContext(cause=cause)
        ),
    }
    commands[action]()


# The lifecycle as the product defines it, written out here rather than read from the code.
LEGAL: dict[str, set[Status]] = {
    "confirm": {Status.HELD},
    "amend": {Status.HELD, Status.CONFIRMED},
    "cancel": {Status.HELD, Status.CONFIRMED},
    "expire": {Status.HELD},
    "check_in": {Status.CONFIRMED},
    "check_out": {Status.CHECKED_IN},
    "no_show": {Status.CONFIRMED},
}
ILLEGAL = [
    (status, action) for action, legal in LEGAL.items() for status in Status if status not in legal
]


def test_the_domain_allows_exactly_the_lifecycle_transitions() -> None:
    assert {action: set(statuses) for action, statuses in ALLOWED.items()} == LEGAL


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_each_illegal_transition_is_refused_and_stores_nothing(
    app: Reservations, booking_in: BookingIn, cause: Cause, status: Status, action: str
) -> None:
    booking_id = booking_in(status)
    before = store_size(app)

    with pytest.raises(IllegalTransition) as refused:
        run(app, action, booking_id, cause)

    assert refused.value.action == action
    assert refused.value.status == status
    assert store_size(app) == before
    assert app.bookings.booking(booking_id).status == status


def test_a_hold_starts_held_with_an_expiry_fifteen_minutes_on(
    app: Reservations, clock: Clock, hold: HoldFn
) -> None:
    booking = app.bookings.booking(hold().id)

    assert booking.status == Status.HELD
    assert booking.hold_expires_at == clock.now.replace(minute=15)


def test_confirming_a_live_hold_makes_it_confirmed(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold().id
    clock.advance(minutes=14, seconds=59)

    result = app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))

    assert app.bookings.booking(booking_id).status == Status.CONFIRMED
    assert result.version == 2


def test_confirming_an_expired_hold_is_refused(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold().id
    clock.advance(minutes=15)
    before = store_size(app)

    with pytest.raises(HoldExpired):
        app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))

    assert store_size(app) == before
    assert app.bookings.booking(booking_id).status == Status.HELD


def test_a_hold_cannot_be_expired_before_its_time(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold().id
    clock.advance(minutes=14, seconds=59)
    before = store_size(app)

    with pytest.raises(HoldNotYetExpired):
        app.bookings.expire(booking_id=booking_id, context=CommandContext(cause=cause))

    assert store_size(app) == before


def test_a_hold_can_be_expired_from_the_moment_it_runs_out(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold().id
    clock.advance(minutes=15)

    app.bookings.expire(booking_id=booking_id, context=CommandContext(cause=cause))

    booking = app.bookings.booking(booking_id)
    assert booking.status == Status.EXPIRED
    assert booking.charges() == 0


def test_cancelling_a_hold_is_free(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(first=0).id  # arrival today: inside any fee window

    app.bookings.cancel(
        booking_id=booking_id, reason="changed mind", context=CommandContext(cause=cause)
    )

    booking = app.bookings.booking(booking_id)
    assert booking.status == Status.CANCELLED
    assert booking.cancellation_fee == 0
    assert app.catalogue.sold(pool_id, night(0)) == 0


def test_checking_in_and_out_on_the_arrival_day(
    app: Reservations, booking_in: BookingIn, cause: Cause, pool_id: UUID
) -> None:
    booking_id = booking_in(Status.CONFIRMED)

    app.bookings.check_in(booking_id=booking_id, context=CommandContext(cause=cause))
    assert app.bookings.booking(booking_id).status == Status.CHECKED_IN
    app.bookings.check_out(booking_id=booking_id, context=CommandContext(cause=cause))

    assert app.bookings.booking(booking_id).status == Status.CHECKED_OUT
    assert app.catalogue.sold(pool_id, night(0)) == 1  # a stay that happened keeps its nights


def test_checking_in_before_the_arrival_day_is_refused(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold(first=1).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    before = store_size(app)

    with pytest.raises(NotArrivalDay):
        app.bookings.check_in(booking_id=booking_id, context=CommandContext(cause=cause))

    assert store_size(app) == before


def test_checking_in_after_the_departure_day_is_refused(
    app: Reservations, booking_in: BookingIn, clock: Clock, cause: Cause
) -> None:
    booking_id = booking_in(Status.CONFIRMED)  # departs on day 2
    clock.advance(days=3)  # the day after departure, local
    before = store_size(app)

    with pytest.raises(NotArrivalDay):
        app.bookings.check_in(booking_id=booking_id, context=CommandContext(cause=cause))

    assert store_size(app) == before


def test_checking_in_is_possible_until_the_departure_day(
    app: Reservations, booking_in: BookingIn, clock: Clock, cause: Cause
) -> None:
    booking_id = booking_in(Status.CONFIRMED)
    clock.advance(days=2)  # the departure day, local

    app.bookings.check_in(booking_id=booking_id, context=CommandContext(cause=cause))

    assert app.bookings.booking(booking_id).status == Status.CHECKED_IN


def test_a_no_show_frees_the_nights(
    app: Reservations, booking_in: BookingIn, cause: Cause, pool_id: UUID
) -> None:
    booking_id = booking_in(Status.CONFIRMED)
    assert app.catalogue.sold(pool_id, night(1)) == 1

    app.bookings.record_no_show(booking_id=booking_id, context=CommandContext(cause=cause))

    assert app.bookings.booking(booking_id).status == Status.NO_SHOW
    assert [app.catalogue.sold(pool_id, night(n)) for n in (0, 1)] == [0, 0]


def test_a_no_show_cannot_be_recorded_before_the_arrival_day(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold(first=1).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    before = store_size(app)

    with pytest.raises(NotArrivalDay):
        app.bookings.record_no_show(booking_id=booking_id, context=CommandContext(cause=cause))

    assert store_size(app) == before
    assert app.bookings.booking(booking_id).status == Status.CONFIRMED
