"""Barrier decisions at entry and exit gates, plate reads stored once per facility and read
id, and cameras scoped to their facility."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import Status
from berth.domain.camera import Camera, CameraAtAnotherFacility, CameraExists
from berth.domain.camera_commands import UnknownCamera
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.gate import InvalidGateSettings
from berth.domain.gate_commands import UnknownGate
from berth.domain.plate_read import (
    AlreadyResolved,
    InvalidRead,
    PlateRead,
    ReadIdReused,
    legacy_plate_read_id,
)
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
        direction: app.gates.add_gate(
            facility_id=facility_id,
            name=f"{direction} lane",
            direction=direction,
            context=CommandContext(cause=cause),
        ).id
        for direction in ("entry", "exit")
    }


@pytest.fixture
def booked(app: Reservations, hold: HoldFn, cause: Cause, clock: Clock) -> UUID:
    """A confirmed booking for nights 2-4 (departing day 5), plate `AB-12 CD`, paid in full."""
    booking_id = hold(first=2, nights=3, plates=["AB-12 CD"]).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    booking = app.bookings.booking(booking_id)
    app.bookings.record_payment(
        booking_id=booking_id,
        amount=booking.total,
        currency="EUR",
        method="card",
        context=CommandContext(cause=cause),
    )
    return booking_id


class Reads:
    def __init__(self, app: Reservations, gates: dict[str, UUID], cause: Cause) -> None:
        self.app, self.gates, self.cause, self.count = app, gates, cause, 0

    def __call__(
        self, direction: str, plate: str, at: datetime, booking_ids=(), read_id=None, gate_id=None
    ):
        self.count += 1
        return self.app.gates.record_plate_read(
            read_id=read_id or f"read-{self.count}",
            camera_id="cam-1",
            gate_id=gate_id or self.gates[direction],
            plate=plate,
            confidence=0.93,
            captured_at=at,
            booking_ids=booking_ids,
            context=CommandContext(cause=self.cause),
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
    assert app.bookings.booking(booked).status == Status.CHECKED_IN


def test_an_arrival_within_the_early_grace_opens(read: Reads, booked: UUID) -> None:
    outcome = read("entry", "AB12CD", local(1, 23), [booked])  # 1 h early, grace is 2 h
    assert outcome.open


def test_an_arrival_before_the_grace_is_denied_as_too_early(
    app: Reservations, read: Reads, booked: UUID
) -> None:
    outcome = read("entry", "AB12CD", local(1, 20), [booked])
    assert (outcome.open, outcome.reason) == (False, "too-early")
    assert app.bookings.booking(booked).status == Status.CONFIRMED


def test_an_arrival_after_the_stay_is_denied_as_ended(read: Reads, booked: UUID) -> None:
    outcome = read("entry", "AB12CD", local(6, 9), [booked])
    assert (outcome.open, outcome.reason) == (False, "stay-ended")


def test_an_unknown_plate_is_denied_and_kept_as_an_unmatched_read(
    app: Reservations, read: Reads, booked: UUID, cause: Cause, facility_id: UUID
) -> None:
    outcome = read("entry", "ZZ99ZZZ", local(2, 8), [booked])
    assert (outcome.open, outcome.reason, outcome.booking_id) == (False, "unknown-plate", None)
    app.gates.resolve_read(
        facility_id=facility_id, read_id=outcome.read_id, booking_id=booked, note="plate dirty",
        context=CommandContext(cause=cause),
    )  # fmt: skip
    assert app.bookings.booking(booked).status == Status.CHECKED_IN
    with pytest.raises(AlreadyResolved):
        app.gates.resolve_read(
            facility_id=facility_id,
            read_id=outcome.read_id,
            booking_id=None,
            context=CommandContext(cause=cause),
        )


def test_a_cancelled_booking_is_denied(
    app: Reservations, read: Reads, hold: HoldFn, cause: Cause
) -> None:
    booking_id = hold(first=2, nights=1, plates=["CX1"]).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause))
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
    version = app.bookings.booking(booked).version
    outcome = read("entry", "AB 12 CD", local(2, 8) + timedelta(seconds=20), [booked])
    assert (outcome.open, outcome.reason) == (True, "same-passage")
    assert app.bookings.booking(booked).version == version


def test_an_exit_within_the_stay_opens_and_checks_out(
    app: Reservations, read: Reads, booked: UUID
) -> None:
    read("entry", "AB12CD", local(2, 8), [booked])
    outcome = read("exit", "AB12CD", local(5, 18), [booked])
    assert (outcome.open, outcome.reason) == (True, "on-time")
    assert app.bookings.booking(booked).status == Status.CHECKED_OUT


def test_an_exit_after_the_grace_charges_overstay_and_waits_for_payment(
    app: Reservations, read: Reads, booked: UUID, cause: Cause
) -> None:
    pool_id = app.bookings.booking(booked).pool_id
    app.gates.set_overstay_tariff(pool_id=pool_id, hourly=250, context=CommandContext(cause=cause))
    read("entry", "AB12CD", local(2, 8), [booked])
    # The stay ends at local midnight after day 5; grace 30 min; 02:10 is 3 started hours.
    denied = read("exit", "AB12CD", local(6, 2, 10), [booked])
    assert (denied.open, denied.reason) == (False, "balance-due")
    booking = app.bookings.booking(booked)
    assert (booking.overstay_hours, booking.overstay_charged, booking.balance_due()) == (
        3,
        750,
        750,
    )
    again = read("exit", "AB12CD", local(6, 2, 20), [booked])  # no new hour, no new charge
    assert not again.open and app.bookings.booking(booked).overstay_charged == 750
    app.bookings.record_payment(
        booking_id=booked,
        amount=750,
        currency="EUR",
        method="card",
        context=CommandContext(cause=cause),
    )
    paid = read("exit", "AB12CD", local(6, 2, 25), [booked])
    assert (paid.open, paid.reason) == (True, "overstay-paid")
    assert app.bookings.booking(booked).status == Status.CHECKED_OUT


def test_an_unpaid_booking_cannot_leave(
    app: Reservations, read: Reads, hold: HoldFn, cause: Cause
) -> None:
    booking_id = hold(first=2, nights=1, plates=["UP1"]).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    read("entry", "UP1", local(2, 9), [booking_id])
    outcome = read("exit", "UP1", local(3, 9), [booking_id])
    assert (outcome.open, outcome.reason) == (False, "balance-due")


def test_a_booking_at_another_facility_does_not_match(
    app: Reservations, read: Reads, cause: Cause, clock: Clock
) -> None:
    other = app.catalogue.register_facility(
        name="Elsewhere", time_zone="Europe/London", context=CommandContext(cause=cause)
    ).id
    pool = PoolFactory(app, other, cause)()
    booking_id = app.bookings.hold(
        pool_id=pool,
        stay=make_stay(2, 1),
        quantity=1,
        guest={"name": "Bo"},
        plates=["OT1"],
        context=CommandContext(cause=cause),
    ).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    assert read("entry", "OT1", local(2, 9), [booking_id]).reason == "unknown-plate"


def test_bad_reads_and_gates_are_refused_and_store_nothing(
    app: Reservations, read: Reads, facility_id: UUID, cause: Cause
) -> None:
    size = store_size(app)
    with pytest.raises(InvalidRead):
        read("entry", "  ", local(2, 9))
    with pytest.raises(InvalidGateSettings):
        app.gates.add_gate(
            facility_id=facility_id,
            name="x",
            direction="sideways",
            context=CommandContext(cause=cause),
        )
    with pytest.raises(UnknownGate):
        app.gates.record_plate_read(
            read_id="r",
            camera_id="c",
            gate_id=facility_id,
            plate="AB",
            confidence=0.5,
            captured_at=local(2, 9),
            context=CommandContext(cause=cause),
        )
    assert store_size(app) == size


@pytest.fixture
def elsewhere(app: Reservations, cause: Cause) -> dict[str, UUID]:
    """A second facility with an entry gate and a confirmed, paid booking for `AB-12 CD`."""
    facility = app.catalogue.register_facility(
        name="Elsewhere", time_zone="Europe/London", context=CommandContext(cause=cause)
    ).id
    pool = PoolFactory(app, facility, cause)()
    booking_id = app.bookings.hold(
        pool_id=pool, stay=make_stay(2, 3), quantity=1, guest={"name": "Bo"},
        plates=["AB-12 CD"], context=CommandContext(cause=cause),
    ).id  # fmt: skip
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    app.bookings.record_payment(
        booking_id=booking_id, amount=app.bookings.booking(booking_id).total, currency="EUR",
        method="card", context=CommandContext(cause=cause),
    )  # fmt: skip
    gate = app.gates.add_gate(
        facility_id=facility, name="in", direction="entry", context=CommandContext(cause=cause)
    ).id
    return {"facility": facility, "gate": gate, "booking": booking_id}


def test_the_same_read_id_at_two_facilities_is_two_reads_each_decided_and_stored(
    app: Reservations, read: Reads, booked: UUID, elsewhere: dict[str, UUID]
) -> None:
    here = read("entry", "AB12CD", local(2, 8), [booked], read_id="0001")
    size = store_size(app)
    there = read(
        "entry", "AB12CD", local(2, 8), [elsewhere["booking"]], read_id="0001",
        gate_id=elsewhere["gate"],
    )  # fmt: skip
    assert (here.duplicate, there.duplicate) == (False, False)
    assert (there.open, there.reason, there.booking_id) == (True, "on-time", elsewhere["booking"])
    assert app.bookings.booking(elsewhere["booking"]).status == Status.CHECKED_IN
    assert app.bookings.booking(booked).status == Status.CHECKED_IN
    assert store_size(app) > size


@pytest.mark.parametrize(
    "change",
    [{"plate": "XY99ZZZ"}, {"at": local(2, 9)}, {"direction": "exit"}],
    ids=["another plate", "another capture time", "another gate"],
)
def test_a_read_id_reused_for_another_read_is_refused_and_stores_nothing(
    app: Reservations, read: Reads, booked: UUID, change: dict[str, object]
) -> None:
    read("entry", "AB12CD", local(2, 8), [booked], read_id="0001")
    size = store_size(app)
    again: dict[str, object] = {"direction": "entry", "plate": "AB12CD", "at": local(2, 8)}
    again.update(change)
    with pytest.raises(ReadIdReused):
        read(again["direction"], again["plate"], again["at"], [booked], read_id="0001")
    assert store_size(app) == size


def store_legacy_read(app: Reservations, facility_id: UUID, gate_id: UUID, read_id: str) -> None:
    """A read as code before 0060 stored it: its id derived from the read id alone."""
    legacy = PlateRead._create(
        PlateRead.Recorded, id=legacy_plate_read_id(read_id), timestamp=local(2, 7),
        cause={"principal": "old"}, read_id=read_id, camera_id="cam-1", gate_id=gate_id,
        facility_id=facility_id, direction="entry", plate="ZZ1", confidence=0.93,
        captured_at=local(2, 7), candidates=[], image_ref=None, open=False,
        reason="unknown-plate", booking_id=None,
    )  # fmt: skip
    app.save(legacy)


def test_a_read_stored_under_its_old_global_id_is_still_its_facilitys_read(
    app: Reservations,
    read: Reads,
    gates: dict[str, UUID],
    facility_id: UUID,
    booked: UUID,
    elsewhere: dict[str, UUID],
    cause: Cause,
) -> None:
    store_legacy_read(app, facility_id, gates["entry"], "old-1")
    size = store_size(app)
    again = read("entry", "ZZ1", local(2, 7), read_id="old-1")
    assert (again.duplicate, again.reason) == (True, "unknown-plate")
    assert store_size(app) == size
    with pytest.raises(ReadIdReused):
        read("entry", "AB12CD", local(2, 8), [booked], read_id="old-1")
    there = read("entry", "ZZ1", local(2, 7), read_id="old-1", gate_id=elsewhere["gate"])
    assert not there.duplicate  # the old read is the first facility's, not this one's
    app.gates.resolve_read(
        facility_id=facility_id,
        read_id="old-1",
        booking_id=booked,
        context=CommandContext(cause=cause),
    )
    assert app.bookings.booking(booked).status == Status.CHECKED_IN


def test_a_camera_id_is_scoped_to_its_facility(
    app: Reservations, gates: dict[str, UUID], elsewhere: dict[str, UUID], cause: Cause
) -> None:
    here = app.cameras.register_camera(
        gate_id=gates["entry"], camera_id="cam-1", context=CommandContext(cause=cause)
    )
    there = app.cameras.register_camera(
        gate_id=elsewhere["gate"], camera_id="cam-1", context=CommandContext(cause=cause)
    )
    assert here.id != there.id
    assert app.cameras.camera(elsewhere["facility"], "cam-1").gate_id == elsewhere["gate"]
    size = store_size(app)
    with pytest.raises(CameraExists):
        app.cameras.register_camera(
            gate_id=gates["exit"], camera_id="cam-1", context=CommandContext(cause=cause)
        )
    assert store_size(app) == size


def test_moving_and_rekeying_a_camera_are_events_with_their_cause(
    app: Reservations, gates: dict[str, UUID], facility_id: UUID, cause: Cause, clock: Clock
) -> None:
    app.cameras.register_camera(
        gate_id=gates["entry"], camera_id="cam-1", context=CommandContext(cause=cause)
    )
    app.cameras.move_camera(
        facility_id=facility_id,
        camera_id="cam-1",
        gate_id=gates["exit"],
        context=CommandContext(cause=cause),
    )
    until = clock() + timedelta(hours=1)
    app.cameras.rekey_camera(
        facility_id=facility_id,
        camera_id="cam-1",
        previous_valid_until=until,
        context=CommandContext(cause=cause),
    )
    camera = app.cameras.camera(facility_id, "cam-1")
    events = list(app.repository.event_store.get(camera.id))
    assert [type(e).__name__ for e in events] == ["Registered", "Moved", "Rekeyed"]
    moved, rekeyed = events[1], events[2]
    assert isinstance(moved, Camera.Moved) and isinstance(rekeyed, Camera.Rekeyed)
    assert (moved.from_gate_id, moved.gate_id) == (gates["entry"], gates["exit"])
    assert rekeyed.previous_valid_until == until
    assert all(e.cause == cause.as_metadata() for e in events)  # type: ignore[attr-defined]
    assert camera.gate_id == gates["exit"]


def test_a_rekey_whose_grace_ended_as_the_command_ran_revokes_the_previous_secret_now(
    app: Reservations, gates: dict[str, UUID], facility_id: UUID, cause: Cause, clock: Clock
) -> None:
    """No grace: the caller read its clock a moment before the command's own."""
    app.cameras.register_camera(
        gate_id=gates["entry"], camera_id="cam-1", context=CommandContext(cause=cause)
    )
    asked_at = clock()
    clock.advance(milliseconds=3)

    app.cameras.rekey_camera(
        facility_id=facility_id,
        camera_id="cam-1",
        previous_valid_until=asked_at,
        context=CommandContext(cause=cause),
    )

    camera = app.cameras.camera(facility_id, "cam-1")
    assert camera.previous_valid_until == clock()


def test_a_camera_cannot_move_to_another_facilitys_gate(
    app: Reservations,
    gates: dict[str, UUID],
    facility_id: UUID,
    elsewhere: dict[str, UUID],
    cause: Cause,
) -> None:
    app.cameras.register_camera(
        gate_id=gates["entry"], camera_id="cam-1", context=CommandContext(cause=cause)
    )
    size = store_size(app)
    with pytest.raises(CameraAtAnotherFacility):
        app.cameras.move_camera(
            facility_id=facility_id,
            camera_id="cam-1",
            gate_id=elsewhere["gate"],
            context=CommandContext(cause=cause),
        )
    assert store_size(app) == size
    assert app.cameras.camera(facility_id, "cam-1").gate_id == gates["entry"]


def test_a_camera_registered_before_its_events_existed_is_adopted_by_its_first_move(
    app: Reservations, gates: dict[str, UUID], facility_id: UUID, cause: Cause
) -> None:
    with pytest.raises(UnknownCamera):
        app.cameras.move_camera(
            facility_id=facility_id,
            camera_id="old",
            gate_id=gates["exit"],
            context=CommandContext(cause=cause),
        )
    app.cameras.move_camera(
        facility_id=facility_id, camera_id="old", gate_id=gates["exit"],
        registered_gate_id=gates["entry"], context=CommandContext(cause=cause),
    )  # fmt: skip
    camera = app.cameras.camera(facility_id, "old")
    assert (camera.gate_id, camera.version) == (gates["exit"], 2)
