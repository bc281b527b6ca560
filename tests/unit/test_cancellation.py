"""The cancellation fee: free until a window before local arrival, then a share, rounded half up."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.cancellation import CancellationPolicy, InvalidPolicy
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay

from .support import Clock, night, store_size

ARRIVAL = date(2030, 6, 10)
# Midnight at the start of 10 June in London (BST) is 23:00 UTC on 9 June.
LONDON_MIDNIGHT = datetime(2030, 6, 9, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("total", "percent", "fee"),
    [
        (1000, 100, 1000),
        (1000, 0, 0),
        (1001, 50, 501),  # 500.5 rounds up
        (999, 50, 500),  # 499.5 rounds up
        (333, 33, 110),  # 109.89
        (101, 10, 10),  # 10.1 rounds down
        (105, 10, 11),  # 10.5 rounds up
        (1, 49, 0),  # 0.49
        (1, 50, 1),  # 0.5
        (0, 100, 0),
    ],
)
def test_the_fee_is_the_policy_share_of_the_total_rounded_half_up(
    total: int, percent: int, fee: int
) -> None:
    policy = CancellationPolicy(free_until_hours=0, fee_percent=percent)

    assert (
        policy.fee(
            total=total, arrival=ARRIVAL, time_zone="UTC", now=datetime(2030, 6, 10, tzinfo=UTC)
        )
        == fee
    )


def test_cancelling_is_free_until_the_window_opens_in_the_facility_time_zone() -> None:
    policy = CancellationPolicy(free_until_hours=48, fee_percent=50)
    window_opens = LONDON_MIDNIGHT - timedelta(hours=48)

    def fee(now: datetime) -> int:
        return policy.fee(total=1000, arrival=ARRIVAL, time_zone="Europe/London", now=now)

    assert fee(window_opens - timedelta(microseconds=1)) == 0
    assert fee(window_opens) == 500
    assert fee(LONDON_MIDNIGHT + timedelta(days=3)) == 500


@pytest.mark.parametrize(
    "options", [{"fee_percent": 101}, {"fee_percent": -1}, {"free_until_hours": -1}]
)
def test_a_policy_out_of_range_is_invalid(options: dict[str, int]) -> None:
    with pytest.raises(InvalidPolicy):
        CancellationPolicy(**options)


@pytest.fixture
def strict_pool(make_pool) -> UUID:  # type: ignore[no-untyped-def]
    """15.55 EUR a night; free until 24 hours before arrival, then 30 %."""
    return make_pool(
        nightly_price=1555,
        cancellation=CancellationPolicy(free_until_hours=24, fee_percent=30),
    )


def confirmed(app: Reservations, pool_id: UUID, cause: Cause, stay: Stay) -> UUID:
    booking_id = app.bookings.hold(
        pool_id=pool_id,
        stay=stay,
        quantity=1,
        guest={"name": "Ada"},
        context=CommandContext(cause=cause),
    ).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    return booking_id


def test_cancelling_a_confirmed_booking_inside_the_fee_window_charges_the_policy_fee(
    app: Reservations, clock: Clock, cause: Cause, strict_pool: UUID
) -> None:
    booking_id = confirmed(app, strict_pool, cause, Stay(night(1), night(4)))  # 46.65 EUR
    # Arrival is 2 June; 24 h before its local midnight is 23:00 UTC on 31 May: already past.

    app.bookings.cancel(
        booking_id=booking_id, reason="plans changed", context=CommandContext(cause=cause)
    )

    booking = app.bookings.booking(booking_id)
    assert booking.total == 4665
    assert booking.cancellation_fee == 1400  # 1399.5 rounded half up
    assert booking.charges() == 1400
    assert app.catalogue.sold(strict_pool, night(1)) == 0


def test_cancelling_a_confirmed_booking_before_the_fee_window_is_free(
    app: Reservations, clock: Clock, cause: Cause, strict_pool: UUID
) -> None:
    booking_id = confirmed(app, strict_pool, cause, Stay(night(2), night(3)))
    # Arrival 3 June: the window opens at 23:00 UTC on 1 June; now is 09:00 UTC on 1 June.

    app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause))

    assert app.bookings.booking(booking_id).cancellation_fee == 0
    assert app.bookings.booking(booking_id).charges() == 0


def test_the_fee_window_of_a_booking_opens_on_the_hour_before_local_arrival(
    app: Reservations, clock: Clock, cause: Cause, strict_pool: UUID
) -> None:
    early = confirmed(app, strict_pool, cause, Stay(night(2), night(3)))
    late = confirmed(app, strict_pool, cause, Stay(night(2), night(3)))
    # Arrival 3 June: local midnight is 23:00 UTC on 2 June, 24 h before is 23:00 UTC on 1 June.
    clock.set(datetime(2030, 6, 1, 22, 59, 59, 999999, tzinfo=UTC))
    app.bookings.cancel(booking_id=early, context=CommandContext(cause=cause))
    clock.advance(microseconds=1)
    before = store_size(app)

    app.bookings.cancel(booking_id=late, context=CommandContext(cause=cause))

    assert store_size(app) == before + 2  # the booking, and the one night given back
    assert app.bookings.booking(early).cancellation_fee == 0
    assert app.bookings.booking(late).cancellation_fee == (1555 * 30 + 50) // 100 == 467
