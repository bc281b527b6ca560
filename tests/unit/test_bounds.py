"""Bounded values: the field types every inlet loads through, and the domain's own re-checks."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from marshmallow import ValidationError, fields

from berth.adapters.inputs import fields as bounded
from berth.adapters.read_models.plate_reads import PlateReadPayload
from berth.cli import build_parser
from berth.domain import bounds
from berth.domain.application import Reservations
from berth.domain.bounds import MAX_MONEY
from berth.domain.cause import Cause
from berth.domain.stay import Stay

from .support import HoldFn, night, store_size

# -- field types -----------------------------------------------------------------------------


def refused(field: fields.Field[Any], value: Any) -> list[str]:
    with pytest.raises(ValidationError) as error:
        field.deserialize(value)
    messages = error.value.messages
    assert isinstance(messages, list)
    return [str(m) for m in messages]


def test_money_is_whole_minor_units_up_to_the_maximum() -> None:
    assert bounded.money().deserialize(MAX_MONEY) == MAX_MONEY
    assert bounded.money().deserialize(0) == 0
    for value in (MAX_MONEY + 1, 2**63 - 1, -1, "100", 1.5):
        refused(bounded.money(), value)
    refused(bounded.money(minimum=1), 0)


def test_quantity_and_capacity_stay_within_their_limits() -> None:
    assert bounded.quantity().deserialize(bounds.MAX_QUANTITY) == bounds.MAX_QUANTITY
    refused(bounded.quantity(), bounds.MAX_QUANTITY + 1)
    refused(bounded.quantity(), 0)
    assert bounded.capacity().deserialize(0) == 0
    refused(bounded.capacity(), bounds.MAX_CAPACITY + 1)


@pytest.mark.parametrize(
    "value",
    [
        "a\x00b",
        "\ud800",
        "ok\udfff",
        "bell\x07",
        "del\x7f",
        "c1\x85",
        "tab\tin a name",
        "two\nlines",
    ],
)
def test_text_refuses_nul_lone_surrogates_and_control_characters(value: str) -> None:
    assert refused(bounded.text(100), value)


def test_free_text_keeps_line_breaks_but_no_other_control_character() -> None:
    note = "line one\r\nline two\tindented"
    assert bounded.free_text(100).deserialize(note) == note
    assert "U+0000" in refused(bounded.free_text(100), "nul\x00")[0]
    assert "U+001B" in refused(bounded.free_text(100), "escape\x1b[0m")[0]


def test_text_is_bounded_in_length_and_keeps_ordinary_unicode() -> None:
    assert bounded.text(12).deserialize("Zoë Ångström") == "Zoë Ångström"
    refused(bounded.text(3), "four")
    refused(bounded.identifier(10), "")


def test_dates_lie_in_the_supported_range() -> None:
    assert bounded.Day().deserialize("2000-01-01") == bounds.FIRST_DATE
    assert bounded.Day().deserialize("2199-12-31") == bounds.LAST_DATE
    for value in ("9999-12-31", "1999-12-31", "0001-01-01", "2200-01-01"):
        assert "supported" in refused(bounded.Day(), value)[0]


def test_a_moment_far_out_of_range_is_refused_before_any_conversion_overflows() -> None:
    assert bounded.Moment().deserialize("2030-06-01T10:00:00+02:00").utcoffset() == timedelta(
        hours=2
    )
    refused(bounded.Moment(), "9999-12-31T23:59:59-14:00")
    refused(bounded.Moment(), "0001-01-01T00:00:00+14:00")


def test_a_bounded_schema_refuses_nul_and_surrogates_in_keys_and_nested_values() -> None:
    read = {
        "read_id": "r-1",
        "camera_id": "cam",
        "plate": "AB12",
        "confidence": 0.5,
        "captured_at": "2030-06-01T10:00:00+00:00",
    }
    assert PlateReadPayload().load(read)["read_id"] == "r-1"
    for changes in (
        {"read_id": "r\x00"},
        {"image_ref": "img\x00"},
        {"candidates": ["AB\ud83d"]},
        {"x\ud800": 1},
    ):
        with pytest.raises(ValidationError):
            PlateReadPayload().load({**read, **changes})


def test_cli_arguments_load_through_the_same_field_types() -> None:
    pool = UUID(int=1)
    parser = build_parser()
    for argv in (
        ["pool", "create", str(pool), "Long stay", "--capacity", "5", "--price", str(2**63 - 1)],
        ["pool", "create", str(pool), "Long\x00stay", "--capacity", "5", "--price", "100"],
        ["booking", "hold", str(pool), "--arrival", "9999-12-31", "--departure", "2030-01-02"],
    ):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([*argv, "--currency", "EUR"] if argv[0] == "pool" else argv)
        assert exit_.value.code == 2  # a usage error, before any database is touched
    args = parser.parse_args(["pool", "create", str(pool), "Long stay", "--capacity", "5",
                              "--price", str(MAX_MONEY), "--currency", "EUR"])  # fmt: skip
    assert (args.capacity, args.price) == (5, MAX_MONEY)
    load = bounded.argument(bounded.money())
    with pytest.raises(argparse.ArgumentTypeError):
        load("twelve")


# -- the domain re-checks --------------------------------------------------------------------


def test_the_domain_refuses_text_it_cannot_store() -> None:
    with pytest.raises(bounds.InvalidText):
        bounds.check_text("a\x00", what="a name")
    with pytest.raises(bounds.InvalidText):
        bounds.check_text("x" * 11, what="a name", maximum=10)
    assert bounds.check_text("two\nlines", what="a note", multiline=True) == "two\nlines"


def test_a_stay_outside_the_supported_dates_is_refused() -> None:
    with pytest.raises(bounds.DateOutOfRange):
        Stay(date(2199, 12, 31), date(2200, 1, 1))
    with pytest.raises(bounds.DateOutOfRange):
        Stay(date(1999, 12, 31), date(2000, 1, 1))


def test_paying_more_than_a_booking_can_keep_is_refused_and_stores_nothing(
    app: Reservations, cause: Cause, hold: HoldFn
) -> None:
    booking_id = hold(nights=1).id
    app.record_payment(
        booking_id=booking_id, amount=MAX_MONEY, currency="EUR", method="card", cause=cause
    )
    before = store_size(app)

    with pytest.raises(bounds.MoneyLimitExceeded):
        app.record_payment(
            booking_id=booking_id, amount=1, currency="EUR", method="card", cause=cause
        )
    with pytest.raises(bounds.AmountOutOfRange):
        app.record_payment(
            booking_id=booking_id, amount=2**63 - 1, currency="EUR", method="card", cause=cause
        )

    assert store_size(app) == before
    assert app.booking(booking_id).paid == MAX_MONEY


def test_a_price_or_tariff_past_the_maximum_is_refused(
    app: Reservations, cause: Cause, facility_id: UUID, pool_id: UUID
) -> None:
    with pytest.raises(bounds.AmountOutOfRange):
        app.add_pool(facility_id=facility_id, name="p", capacity=1, nightly_price=2**63 - 1,
                     currency="EUR", cause=cause)  # fmt: skip
    with pytest.raises(bounds.AmountOutOfRange):
        app.set_overstay_tariff(pool_id=pool_id, hourly=MAX_MONEY + 1, cause=cause)


def test_a_stay_whose_total_passes_the_maximum_is_refused(
    app: Reservations, cause: Cause, facility_id: UUID
) -> None:
    pool = app.add_pool(facility_id=facility_id, name="Dear", capacity=5, nightly_price=MAX_MONEY,
                        currency="EUR", cause=cause).id  # fmt: skip
    before = store_size(app)

    with pytest.raises(bounds.MoneyLimitExceeded):
        app.hold(pool_id=pool, stay=Stay(night(0), night(2)), quantity=1,
                 guest={"name": "Ada"}, cause=cause)  # fmt: skip

    assert store_size(app) == before


def test_a_capacity_change_at_the_end_of_the_calendar_is_refused(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    with pytest.raises(bounds.DateOutOfRange):
        app.change_capacity(pool_id=pool_id, first_night=date(9999, 12, 31),
                            last_night=date(9999, 12, 31), capacity=1, cause=cause)  # fmt: skip


def test_a_business_day_before_the_supported_dates_cannot_be_closed(
    app: Reservations, cause: Cause, facility_id: UUID
) -> None:
    with pytest.raises(bounds.DateOutOfRange):
        app.close_day(facility_id=facility_id, business_date=date(1, 1, 1), cause=cause)


def test_an_overstay_charge_past_what_a_booking_can_keep_is_refused(
    app: Reservations, cause: Cause, hold: HoldFn, clock: Any
) -> None:
    booking = app.booking(hold(nights=1).id)

    with pytest.raises(bounds.MoneyLimitExceeded):
        booking.charge_overstay(hours=2, hourly=MAX_MONEY, now=clock(), cause=cause.as_metadata())

    assert booking.overstay_charged == 0 and not booking.pending_events
