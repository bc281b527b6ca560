"""Amending a booking moves its capacity: released on old nights, taken on new ones."""

from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import Booking, HoldExpired, InvalidQuantity
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.guest import InvalidGuest
from berth.domain.inventory import NoCapacity
from berth.domain.stay import DatesOutOfOrder, StayInPast

from .support import Clock, HoldFn, night, store_size


def sold(app: Reservations, pool_id: UUID, days: int = 5) -> list[int]:
    return [app.catalogue.sold(pool_id, night(n)) for n in range(days)]


def test_moving_dates_releases_the_old_nights_and_takes_the_new(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(first=0, nights=2, quantity=2).id

    app.bookings.amend(
        booking_id=booking_id,
        arrival=night(1),
        departure=night(4),
        context=CommandContext(cause=cause),
    )

    assert sold(app, pool_id) == [0, 2, 2, 2, 0]
    booking = app.bookings.booking(booking_id)
    assert (booking.arrival, booking.departure) == (night(1), night(4))


def test_moving_only_the_departure_keeps_the_arrival(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(first=1, nights=3).id

    app.bookings.amend(
        booking_id=booking_id, departure=night(2), context=CommandContext(cause=cause)
    )

    assert sold(app, pool_id) == [0, 1, 0, 0, 0]


def test_changing_the_quantity_retakes_the_same_nights(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(first=0, nights=2, quantity=1).id

    app.bookings.amend(
        booking_id=booking_id, quantity=2, context=CommandContext(cause=cause)
    )  # its own 1 does not count twice
    assert sold(app, pool_id, 2) == [2, 2]
    app.bookings.amend(booking_id=booking_id, quantity=1, context=CommandContext(cause=cause))
    assert sold(app, pool_id, 2) == [1, 1]


def test_an_amendment_needing_more_than_remains_is_refused_and_stores_nothing(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(first=0, nights=1, quantity=1).id
    hold(first=2, quantity=2)
    before = store_size(app)

    with pytest.raises(NoCapacity) as refused:
        app.bookings.amend(
            booking_id=booking_id, departure=night(3), context=CommandContext(cause=cause)
        )

    assert refused.value.night == night(2)
    assert store_size(app) == before
    assert sold(app, pool_id) == [1, 0, 2, 0, 0]
    assert app.bookings.booking(booking_id).departure == night(1)


def test_raising_the_quantity_beyond_capacity_is_refused_and_stores_nothing(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(quantity=1).id
    before = store_size(app)

    with pytest.raises(NoCapacity):
        app.bookings.amend(booking_id=booking_id, quantity=3, context=CommandContext(cause=cause))

    assert store_size(app) == before
    assert app.bookings.booking(booking_id).quantity == 1


def test_amending_a_hold_keeps_its_expiry_on_the_new_nights(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(first=0, quantity=1).id
    expires_at = app.bookings.booking(booking_id).hold_expires_at
    clock.advance(minutes=10)

    app.bookings.amend(
        booking_id=booking_id,
        arrival=night(2),
        departure=night(4),
        context=CommandContext(cause=cause),
    )

    assert app.bookings.booking(booking_id).hold_expires_at == expires_at
    assert sold(app, pool_id) == [0, 0, 1, 1, 0]
    clock.advance(minutes=5)
    assert sold(app, pool_id) == [0, 0, 0, 0, 0]


def test_amending_a_confirmed_booking_takes_the_new_nights_for_good(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(first=0).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))

    app.bookings.amend(
        booking_id=booking_id,
        arrival=night(1),
        departure=night(3),
        context=CommandContext(cause=cause),
    )
    clock.advance(hours=12)

    assert sold(app, pool_id) == [0, 1, 1, 0, 0]


def test_amending_an_expired_hold_is_refused(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold().id
    clock.advance(minutes=15)
    before = store_size(app)

    with pytest.raises(HoldExpired):
        app.bookings.amend(booking_id=booking_id, quantity=2, context=CommandContext(cause=cause))

    assert store_size(app) == before


def test_an_amendment_reprices_the_booking_and_keeps_the_old_total(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold(first=0, nights=1, quantity=1).id  # 10.00 EUR a night

    app.bookings.amend(
        booking_id=booking_id, departure=night(3), quantity=2, context=CommandContext(cause=cause)
    )

    booking = app.bookings.booking(booking_id)
    assert booking.total == 3 * 2 * 1000
    (event,) = app.repository.event_store.get(booking_id, desc=True, limit=1)
    assert isinstance(event, Booking.Amended)
    assert event.previous_total == 1000
    assert event.total == 6000


def test_changing_only_the_guest_touches_no_night(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold().id
    before = store_size(app)

    app.bookings.amend(
        booking_id=booking_id,
        guest={"given_name": " Bo ", "family_name": " Lee", "phone": "1"},
        plates=[" AB12 ", " "],
        context=CommandContext(cause=cause),
    )

    assert store_size(app) == before + 1
    booking = app.bookings.booking(booking_id)
    assert booking.guest == {"given_name": "Bo", "family_name": "Lee", "phone": "1"}
    assert booking.plates == ["AB12"]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"quantity": 0}, InvalidQuantity),
        ({"quantity": -1}, InvalidQuantity),
        ({"guest": {"name": "  "}}, InvalidGuest),
        ({"departure": night(0)}, DatesOutOfOrder),
        ({"arrival": night(3)}, DatesOutOfOrder),
        ({"arrival": night(-1)}, StayInPast),
    ],
)
def test_an_invalid_amendment_is_refused_with_its_error_and_stores_nothing(
    app: Reservations, cause: Cause, hold: HoldFn, change: dict[str, object], error: type
) -> None:
    booking_id = hold(first=0, nights=2).id
    before = store_size(app)

    with pytest.raises(error):
        app.bookings.amend(booking_id=booking_id, context=CommandContext(cause=cause), **change)  # type: ignore[arg-type]

    assert store_size(app) == before
