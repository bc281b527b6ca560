"""`If-Match`: a command given the version it expects is refused if the resource moved on."""

from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import Status
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.commanding import StaleVersion

from .support import HoldFn, night, store_size


def test_a_command_at_the_current_version_goes_through(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    held = hold()

    confirmed = app.bookings.confirm(
        booking_id=held.id, context=CommandContext(cause=cause, expected_version=held.version)
    )

    assert confirmed.version == held.version + 1
    assert app.bookings.booking(held.id).version == confirmed.version


@pytest.mark.parametrize("command", ["confirm", "amend", "cancel", "no_show", "payment"])
def test_a_command_at_a_stale_version_is_refused_and_stores_nothing(
    app: Reservations, cause: Cause, hold: HoldFn, command: str
) -> None:
    held = hold()
    if command in ("no_show", "payment"):
        app.bookings.confirm(
            booking_id=held.id, context=CommandContext(cause=cause)
        )  # now at version 2; the caller saw 1
    else:
        app.bookings.amend(
            booking_id=held.id, guest={"name": "Bo"}, context=CommandContext(cause=cause)
        )
    before = store_size(app)
    stale = {
        "booking_id": held.id,
        "context": CommandContext(cause=cause, expected_version=held.version),
    }

    with pytest.raises(StaleVersion) as refused:
        if command == "confirm":
            app.bookings.confirm(**stale)  # type: ignore[arg-type]
        elif command == "amend":
            app.bookings.amend(quantity=2, **stale)  # type: ignore[arg-type]
        elif command == "cancel":
            app.bookings.cancel(**stale)  # type: ignore[arg-type]
        elif command == "no_show":
            app.bookings.record_no_show(**stale)  # type: ignore[arg-type]
        else:
            app.bookings.record_payment(amount=1, currency="EUR", method="cash", **stale)  # type: ignore[arg-type]

    assert (refused.value.expected, refused.value.actual) == (1, 2)
    assert store_size(app) == before


def test_a_version_from_the_future_is_stale_too(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    held = hold()

    with pytest.raises(StaleVersion):
        app.bookings.cancel(
            booking_id=held.id,
            context=CommandContext(cause=cause, expected_version=held.version + 1),
        )

    assert app.bookings.booking(held.id).status == Status.HELD


def test_a_capacity_change_at_a_stale_pool_version_is_refused(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    seen = app.catalogue.pool(pool_id).version
    app.catalogue.change_capacity(
        pool_id=pool_id,
        first_night=night(0),
        last_night=night(0),
        capacity=3,
        context=CommandContext(cause=cause),
    )
    before = store_size(app)

    with pytest.raises(StaleVersion):
        app.catalogue.change_capacity(
            pool_id=pool_id,
            first_night=night(1),
            last_night=night(1),
            capacity=9,
            context=CommandContext(cause=cause, expected_version=seen),
        )

    assert store_size(app) == before
    assert app.catalogue.night_inventory(pool_id, night(1)) is None


def test_a_command_answers_with_the_position_of_its_last_event(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    held = hold(nights=2)

    assert held.position == store_size(app)
    confirmed = app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=cause))
    assert confirmed.position == store_size(app) == held.position + 3  # booking, two nights
