"""Bad input gets its own named error, and nothing is stored."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import InvalidQuantity
from berth.domain.booking_commands import InvalidHoldTime, UnknownBooking
from berth.domain.catalog_commands import UnknownFacility, UnknownPool
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.error import DomainError, InvalidCommand, NotFound
from berth.domain.facility import BlankName, UnknownTimeZone
from berth.domain.guest import InvalidGuest
from berth.domain.money import NegativeAmount, UnknownCurrency
from berth.domain.pool import InvalidCapacity
from berth.domain.stay import DatesOutOfOrder, Stay, StayInPast, StayTooLong

from .support import Clock, HoldFn, night, stay, store_size


@pytest.mark.parametrize("time_zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "utc+1"])
def test_a_facility_in_an_unknown_time_zone_is_refused(
    app: Reservations, cause: Cause, time_zone: str
) -> None:
    with pytest.raises(UnknownTimeZone):
        app.catalogue.register_facility(
            name="Dock", time_zone=time_zone, context=CommandContext(cause=cause)
        )

    assert store_size(app) == 0


def test_a_facility_needs_a_name(app: Reservations, cause: Cause) -> None:
    with pytest.raises(BlankName):
        app.catalogue.register_facility(
            name="   ", time_zone="UTC", context=CommandContext(cause=cause)
        )

    assert store_size(app) == 0


def test_a_pool_in_an_unknown_facility_is_refused(app: Reservations, cause: Cause) -> None:
    with pytest.raises(UnknownFacility):
        app.catalogue.add_pool(
            facility_id=uuid4(),
            name="P",
            capacity=1,
            nightly_price=1,
            currency="EUR",
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == 0


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"currency": "EURO"}, UnknownCurrency),
        ({"currency": "eur"}, UnknownCurrency),
        ({"currency": "XAU"}, UnknownCurrency),  # a precious metal, not money we take
        ({"nightly_price": -1}, NegativeAmount),
        ({"capacity": -1}, InvalidCapacity),
        ({"capacity": 1_000_001}, InvalidCapacity),
        ({"name": ""}, BlankName),
    ],
)
def test_a_pool_with_bad_terms_is_refused_with_its_error(
    app: Reservations, facility_id: UUID, cause: Cause, options: dict[str, object], error: type
) -> None:
    terms: dict[str, object] = {
        "name": "P",
        "capacity": 1,
        "nightly_price": 1000,
        "currency": "EUR",
    }
    terms.update(options)
    before = store_size(app)

    with pytest.raises(error):
        app.catalogue.add_pool(
            facility_id=facility_id, context=CommandContext(cause=cause), **terms
        )  # type: ignore[arg-type]

    assert store_size(app) == before


def test_a_pool_id_that_names_another_kind_of_aggregate_is_an_unknown_pool(
    app: Reservations, facility_id: UUID, cause: Cause
) -> None:
    with pytest.raises(UnknownPool):
        app.bookings.hold(
            pool_id=facility_id,
            stay=stay(0),
            quantity=1,
            guest={"name": "A"},
            context=CommandContext(cause=cause),
        )


def test_holding_in_an_unknown_pool_is_refused(app: Reservations, cause: Cause) -> None:
    with pytest.raises(UnknownPool):
        app.bookings.hold(
            pool_id=uuid4(),
            stay=stay(0),
            quantity=1,
            guest={"name": "A"},
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == 0


def test_changing_capacity_of_an_unknown_pool_is_refused(app: Reservations, cause: Cause) -> None:
    with pytest.raises(UnknownPool):
        app.catalogue.change_capacity(
            pool_id=uuid4(),
            first_night=night(0),
            last_night=night(0),
            capacity=1,
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == 0


@pytest.mark.parametrize(
    "command",
    [
        "confirm",
        "amend",
        "cancel",
        "expire",
        "record_no_show",
        "check_in",
        "check_out",
        "record_payment",
        "request_refund",
        "settle_refund",
    ],
)
def test_a_command_on_an_unknown_booking_is_refused(
    app: Reservations, cause: Cause, pool_id: UUID, command: str
) -> None:
    extra: dict[str, dict[str, object]] = {
        "amend": {"arrival": night(1)},
        "record_payment": {"amount": 1, "currency": "EUR", "method": "card"},
        "request_refund": {"amount": 1, "currency": "EUR"},
        "settle_refund": {"refund_id": "r", "succeeded": True},
    }
    before = store_size(app)

    with pytest.raises(UnknownBooking):
        getattr(app.bookings, command)(
            booking_id=uuid4(), context=CommandContext(cause=cause), **extra.get(command, {})
        )
    with pytest.raises(UnknownBooking):  # the id of something that is not a booking
        getattr(app.bookings, command)(
            booking_id=pool_id, context=CommandContext(cause=cause), **extra.get(command, {})
        )

    assert store_size(app) == before


def test_an_unknown_reference_finds_no_booking(app: Reservations) -> None:
    with pytest.raises(UnknownBooking):
        app.bookings.booking_by_reference("ZZZZZZZZ")


@pytest.mark.parametrize(("arrival", "departure"), [(2, 2), (3, 2)])
def test_a_stay_must_depart_after_it_arrives(arrival: int, departure: int) -> None:
    with pytest.raises(DatesOutOfOrder):
        Stay(night(arrival), night(departure))


def test_a_stay_is_at_most_366_nights() -> None:
    assert Stay(night(0), night(366)).nights == 366
    with pytest.raises(StayTooLong):
        Stay(night(0), night(367))


@pytest.mark.parametrize("quantity", [0, -1, 1001])
def test_a_hold_of_a_quantity_out_of_range_is_refused(
    app: Reservations, hold: HoldFn, quantity: int
) -> None:
    before = store_size(app)

    with pytest.raises(InvalidQuantity):
        hold(quantity=quantity)

    assert store_size(app) == before


def test_a_hold_needs_a_guest_name(app: Reservations, hold: HoldFn) -> None:
    before = store_size(app)

    with pytest.raises(InvalidGuest):
        hold(guest={"name": " ", "email": "a@example.com"})

    assert store_size(app) == before


def test_a_stay_in_the_past_is_refused(app: Reservations, hold: HoldFn) -> None:
    before = store_size(app)

    with pytest.raises(StayInPast):
        hold(first=-1, nights=3)

    assert store_size(app) == before


def test_the_past_is_judged_by_the_facility_local_date(
    app: Reservations, clock: Clock, cause: Cause
) -> None:
    auckland = app.catalogue.register_facility(
        name="Quay", time_zone="Pacific/Auckland", context=CommandContext(cause=cause)
    ).id
    pool_id = app.catalogue.add_pool(
        facility_id=auckland,
        name="P",
        capacity=1,
        nightly_price=1,
        currency="NZD",
        context=CommandContext(cause=cause),
    ).id
    clock.set(datetime(2030, 6, 1, 12, 30, tzinfo=UTC))  # 00:30 on 2 June in Auckland
    before = store_size(app)

    with pytest.raises(StayInPast):
        app.bookings.hold(
            pool_id=pool_id,
            stay=Stay(date(2030, 6, 1), date(2030, 6, 3)),
            quantity=1,
            guest={"name": "A"},
            context=CommandContext(cause=cause),
        )
    assert store_size(app) == before
    app.bookings.hold(
        pool_id=pool_id,
        stay=Stay(date(2030, 6, 2), date(2030, 6, 3)),
        quantity=1,
        guest={"name": "A"},
        context=CommandContext(cause=cause),
    )


def test_a_stay_arriving_today_is_not_in_the_past(app: Reservations, hold: HoldFn) -> None:
    booking_id = hold(first=0).id

    assert app.bookings.booking(booking_id).arrival == night(0)


@pytest.mark.parametrize(
    "hold_for",
    [timedelta(0), timedelta(seconds=59), timedelta(hours=24, seconds=1), timedelta(minutes=-5)],
)
def test_a_hold_time_out_of_bounds_is_refused(
    app: Reservations, hold: HoldFn, hold_for: timedelta
) -> None:
    before = store_size(app)

    with pytest.raises(InvalidHoldTime):
        hold(hold_for=hold_for)

    assert store_size(app) == before


@pytest.mark.parametrize("hold_for", [timedelta(minutes=1), timedelta(hours=24)])
def test_a_hold_time_at_its_bounds_is_accepted(
    app: Reservations, clock: Clock, hold: HoldFn, hold_for: timedelta
) -> None:
    booking_id = hold(hold_for=hold_for).id

    assert app.bookings.booking(booking_id).hold_expires_at == clock.now + hold_for


def test_every_input_error_is_a_400_and_every_unknown_a_404() -> None:
    invalid = [
        InvalidHoldTime,
        InvalidQuantity,
        InvalidGuest,
        UnknownTimeZone,
        BlankName,
        UnknownCurrency,
        NegativeAmount,
        InvalidCapacity,
        DatesOutOfOrder,
        StayTooLong,
        StayInPast,
    ]
    missing = [UnknownBooking, UnknownFacility, UnknownPool]

    assert all(issubclass(e, InvalidCommand) for e in invalid)
    assert all(issubclass(e, NotFound) and not issubclass(e, InvalidCommand) for e in missing)
    codes = [e.code for e in invalid + missing]
    assert len(set(codes)) == len(codes)
    assert DomainError.code not in codes
