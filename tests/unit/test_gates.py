"""Barrier decisions at entry and exit gates, and plate reads stored once per read id."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import Status
from berth.domain.cause import Cause
from berth.domain.gate import InvalidGateSettings
from berth.domain.gate_commands import UnknownGate
from berth.domain.plate_read import AlreadyResolved, InvalidRead
from berth.domain.plates import normalise_plate

from .conftest import PoolFactory
from .support import Clock, HoldFn, night, store_size
from .support import stay as make_stay

# The default test facility is in Europe/London; 1 June 2030 is BST (UTC+1).


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment on test day `day` at local (London, BST) time, as UTC."""
    d = night(day)
    return datetime.fromisoformat(f"{d.isoformat()}T{hour:02d}:{minute:02d}:00+01:00")


@pytest.fixture
def gates(app: Reservations, facility_id: UUID, cause: Cause) -> dict[str, UUID]:
    return {
        direction: app.add_gate(
            facility_id=facility_id, name=f"{direction} lane", direction=direction, cause=cause
        ).id
        for direction in ("entry", "exit")
    }


@pytest.fixture
def booked(app: Reservations, hold: HoldFn, cause: Cause, clock: Clock) -> UUID:
    """A confirmed booking for nights 2-4 (departing day 5), plate `AB-12 CD`, paid in full."""
    booking_id = hold(first=2, nights=3, plates=["AB-12 CD"]).id
    app.confirm(booking_id=booking_id, cause=cause)
    booking = app.booking(booking_id)
    app.record_payment(
        booking_id=booking_id, amount=booking.total, currency="EUR", method="card", cause=cause
    )
    return booking_id


class Reads:
    def __init__(self, app: Reservations, gates: dict[str, UUID], cause: Cause) -> None:
        self.app, self.gates, self.cause, self.count = app, gates, cause, 0

    def __call__(self, direction: str, plate: str, at: datetime, booking_ids=(), read_id=None):
        self.count += 1
        return self.app.record_plate_read(
            read_id=read_id or f"read-{self.count}",
            camera_id="cam-1",
            gate_id=self.gates[direction],
            plate=plate,
            confidence=0.93,
            captured_at=at,
            booking_ids=booking_ids,
            cause=self.cause,
        )


@pytest.fixture
def read(app: Reservations, gates: dict[str, UUID], cause: Cause) -> Reads:
    return Reads(app, gates, cause)


def test_plates_are_compared_without_case_spaces_or_separators() -> None:
    assert normalise_plate("ab-12 cd") == normalise_plate("AB.12.CD") == "AB12CD"


def test_a_confirmed_booking_on_time_opens_the_entry_and_checks_in(
    app: Reservations, read: Reads, booked: UUID
) -> None:
    outcome = read("entry", "ab 12-cd", local(2, 8), [booked])
    assert (outcome.open, outcome.reason, outcome.booking_id) == (True, "on-time", booked)
    assert app.booking(booked).status == Status.CHECKED_IN


def test_an_arrival_within_the_early_grace_opens(read: Reads, booked: UUID) -> None:
    outcome = read("entry", "AB12CD", local(1, 23), [booked])  # 1 h early, grace is 2 h
    assert outcome.open


def test_an_arrival_before_the_grace_is_denied_as_too_early(
    app: Reservations, read: Reads, booked: UUID
) -> None:
    outcome = read("entry", "AB12CD", local(1, 20), [booked])
    assert (outcome.open, outcome.reason) == (False, "too-early")
    assert app.booking(booked).status == Status.CONFIRMED


def test_an_arrival_after_the_stay_is_denied_as_ended(read: Reads, booked: UUID) -> None:
    outcome = read("entry", "AB12CD", local(6, 9), [booked])
    assert (outcome.open, outcome.reason) == (False, "stay-ended")


def test_an_unknown_plate_is_denied_and_kept_as_an_unmatched_read(
    app: Reservations, read: Reads, booked: UUID, cause: Cause
) -> None:
    outcome = read("entry", "ZZ99ZZZ", local(2, 8), [booked])
    assert (outcome.open, outcome.reason, outcome.booking_id) == (False, "unknown-plate", None)
    app.resolve_read(read_id=outcome.read_id, booking_id=booked, note="plate dirty", cause=cause)
    assert app.booking(booked).status == Status.CHECKED_IN
    with pytest.raises(AlreadyResolved):
        app.resolve_read(read_id=outcome.read_id, booking_id=None, cause=cause)


def test_a_cancelled_booking_is_denied(
    app: Reservations, read: Reads, hold: HoldFn, cause: Cause
) -> None:
    booking_id = hold(first=2, nights=1, plates=["CX1"]).id
    app.confirm(booking_id=booking_id, cause=cause)
    app.cancel(booking_id=booking_id, cause=cause)
    outcome = read("entry", "cx1", local(2, 9), [booking_id])
    assert (outcome.open, outcome.reason) == (False, "cancelled")


def test_a_held_booking_is_denied_as_not_confirmed(read: Reads, hold: HoldFn) -> None:
    booking_id = hold(first=0, nights=1, plates=["H1"]).id
    assert read("entry", "H1", local(0, 12), [booking_id]).reason == "not-confirmed"


def test_the_same_read_twice_is_stored_once_with_the_first_decision(
    app: Reservations, read: Reads, booked: UUID
) -> None:
    first = read("entry", "AB12CD", local(2, 8), [booked], read_id="cam-1/0001")
    size = store_size(app)
    again = read("entry", "AB12CD", local(2, 8), [booked], read_id="cam-1/0001")
    assert again.duplicate and not first.duplicate
    assert (again.open, again.reason, again.booking_id) == (True, "on-time", booked)
    assert store_size(app) == size


def test_repeated_reads_at_the_same_lane_within_the_window_are_one_passage(
    app: Reservations, read: Reads, booked: UUID
) -> None:
    read("entry", "AB12CD", local(2, 8), [booked])
    version = app.booking(booked).version
    outcome = read("entry", "AB 12 CD", local(2, 8) + timedelta(seconds=20), [booked])
    assert (outcome.open, outcome.reason) == (True, "same-passage")
    assert app.booking(booked).version == version


def test_an_exit_within_the_stay_opens_and_checks_out(
    app: Reservations, read: Reads, booked: UUID
) -> None:
    read("entry", "AB12CD", local(2, 8), [booked])
    outcome = read("exit", "AB12CD", local(5, 18), [booked])
    assert (outcome.open, outcome.reason) == (True, "on-time")
    assert app.booking(booked).status == Status.CHECKED_OUT


def test_an_exit_after_the_grace_charges_overstay_and_waits_for_payment(
    app: Reservations, read: Reads, booked: UUID, cause: Cause
) -> None:
    pool_id = app.booking(booked).pool_id
    app.set_overstay_tariff(pool_id=pool_id, hourly=250, cause=cause)
    read("entry", "AB12CD", local(2, 8), [booked])
    # The stay ends at local midnight after day 5; grace 30 min; 02:10 is 3 started hours.
    denied = read("exit", "AB12CD", local(6, 2, 10), [booked])
    assert (denied.open, denied.reason) == (False, "balance-due")
    booking = app.booking(booked)
    assert (booking.overstay_hours, booking.overstay_charged, booking.balance_due()) == (
        3,
        750,
        750,
    )
    again = read("exit", "AB12CD", local(6, 2, 20), [booked])  # no new hour, no new charge
    assert not again.open and app.booking(booked).overstay_charged == 750
    app.record_payment(booking_id=booked, amount=750, currency="EUR", method="card", cause=cause)
    paid = read("exit", "AB12CD", local(6, 2, 25), [booked])
    assert (paid.open, paid.reason) == (True, "overstay-paid")
    assert app.booking(booked).status == Status.CHECKED_OUT


def test_an_unpaid_booking_cannot_leave(
    app: Reservations, read: Reads, hold: HoldFn, cause: Cause
) -> None:
    booking_id = hold(first=2, nights=1, plates=["UP1"]).id
    app.confirm(booking_id=booking_id, cause=cause)
    read("entry", "UP1", local(2, 9), [booking_id])
    outcome = read("exit", "UP1", local(3, 9), [booking_id])
    assert (outcome.open, outcome.reason) == (False, "balance-due")


def test_a_booking_at_another_facility_does_not_match(
    app: Reservations, read: Reads, cause: Cause, clock: Clock
) -> None:
    other = app.register_facility(name="Elsewhere", time_zone="Europe/London", cause=cause).id
    pool = PoolFactory(app, other, cause)()
    booking_id = app.hold(
        pool_id=pool,
        stay=make_stay(2, 1),
        quantity=1,
        guest={"name": "Bo"},
        plates=["OT1"],
        cause=cause,
    ).id
    app.confirm(booking_id=booking_id, cause=cause)
    assert read("entry", "OT1", local(2, 9), [booking_id]).reason == "unknown-plate"


def test_bad_reads_and_gates_are_refused_and_store_nothing(
    app: Reservations, read: Reads, facility_id: UUID, cause: Cause
) -> None:
    size = store_size(app)
    with pytest.raises(InvalidRead):
        read("entry", "  ", local(2, 9))
    with pytest.raises(InvalidGateSettings):
        app.add_gate(facility_id=facility_id, name="x", direction="sideways", cause=cause)
    with pytest.raises(UnknownGate):
        app.record_plate_read(
            read_id="r",
            camera_id="c",
            gate_id=facility_id,
            plate="AB",
            confidence=0.5,
            captured_at=local(2, 9),
            cause=cause,
        )
    assert store_size(app) == size
