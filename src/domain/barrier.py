"""Barrier decisions: should the barrier open for this plate read, and for which booking.

Pure rules over the gate, the read and the bookings that carry the plate; the
application loads those and records what the decision says.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from berth.domain.booking import Booking, Status
from berth.domain.gate import Direction, Gate
from berth.domain.plates import normalise_plate
from berth.domain.stay import local_midnight


class Action(StrEnum):
    ARRIVE = "arrive"
    DEPART = "depart"
    NONE = "none"


@dataclass(frozen=True)
class Decision:
    open: bool
    reason: str
    booking_id: UUID | None = None
    action: Action = Action.NONE
    overstay_hours: int = 0  # further started hours to charge before the vehicle leaves


def stay_window(booking: Booking, gate: Gate) -> tuple[datetime, datetime]:
    """When the vehicle may be on site: the stay's local days, widened by the grace periods."""
    start = local_midnight(booking.arrival, booking.time_zone)
    end = local_midnight(booking.departure + timedelta(days=1), booking.time_zone)
    return (
        start - timedelta(minutes=gate.early_grace_minutes),
        end + timedelta(minutes=gate.late_grace_minutes),
    )


def carries_plate(booking: Booking, plate: str) -> bool:
    return normalise_plate(plate) in {normalise_plate(p) for p in booking.plates}


def same_passage(booking: Booking, gate: Gate, plate: str, captured_at: datetime) -> bool:
    last = booking.last_passage
    return (
        last is not None
        and last["gate_id"] == str(gate.id)
        and normalise_plate(last["plate"]) == normalise_plate(plate)
        and abs(captured_at - last["captured_at"]) <= timedelta(seconds=gate.passage_seconds)
    )


def decide(
    *,
    gate: Gate,
    plate: str,
    captured_at: datetime,
    bookings: list[Booking],
    overstay_hourly: dict[UUID, int],
) -> Decision:
    """The decision for one read; `overstay_hourly` is the tariff per pool id."""
    matching = [
        b for b in bookings if b.facility_id == gate.facility_id and carries_plate(b, plate)
    ]
    if not matching:
        return Decision(open=False, reason="unknown-plate")
    if gate.direction == Direction.ENTRY:
        return _decide_entry(gate, plate, captured_at, matching)
    return _decide_exit(gate, plate, captured_at, matching, overstay_hourly)


def _decide_entry(
    gate: Gate, plate: str, captured_at: datetime, matching: list[Booking]
) -> Decision:
    for booking in matching:
        if booking.status == Status.CHECKED_IN:
            reason = (
                "same-passage"
                if same_passage(booking, gate, plate, captured_at)
                else ("already-on-site")
            )
            return Decision(open=True, reason=reason, booking_id=booking.id)
    confirmed = sorted(
        (b for b in matching if b.status == Status.CONFIRMED), key=lambda b: b.arrival
    )
    for booking in confirmed:
        start, end = stay_window(booking, gate)
        if start <= captured_at <= end:
            return Decision(
                open=True, reason="on-time", booking_id=booking.id, action=Action.ARRIVE
            )
    if confirmed:
        booking = confirmed[0]
        start, _ = stay_window(booking, gate)
        reason = "too-early" if captured_at < start else "stay-ended"
        return Decision(open=False, reason=reason, booking_id=booking.id)
    return Decision(open=False, reason=_status_reason(matching[0]), booking_id=matching[0].id)


def _decide_exit(
    gate: Gate,
    plate: str,
    captured_at: datetime,
    matching: list[Booking],
    overstay_hourly: dict[UUID, int],
) -> Decision:
    for booking in matching:
        if booking.status == Status.CHECKED_OUT and same_passage(booking, gate, plate, captured_at):
            return Decision(open=True, reason="same-passage", booking_id=booking.id)
    on_site = [b for b in matching if b.status in {Status.CHECKED_IN, Status.CONFIRMED}]
    if not on_site:
        return Decision(open=False, reason=_status_reason(matching[0]), booking_id=matching[0].id)
    booking = sorted(on_site, key=lambda b: b.status != Status.CHECKED_IN)[0]
    stay_end = local_midnight(booking.departure + timedelta(days=1), booking.time_zone)
    _, free_until = stay_window(booking, gate)
    hours = 0
    if captured_at > free_until:
        started_hours = math.ceil((captured_at - stay_end) / timedelta(hours=1))
        hours = max(started_hours - booking.overstay_hours, 0)
    hourly = overstay_hourly.get(booking.pool_id, 0)
    due = booking.balance_due() + hours * hourly
    if due > 0:
        return Decision(
            open=False, reason="balance-due", booking_id=booking.id, overstay_hours=hours
        )
    reason = "overstay-paid" if booking.overstay_hours + hours > 0 else "on-time"
    return Decision(
        open=True, reason=reason, booking_id=booking.id, action=Action.DEPART, overstay_hours=hours
    )


def _status_reason(booking: Booking) -> str:
    return {
        Status.HELD: "not-confirmed",
        Status.CANCELLED: "cancelled",
        Status.EXPIRED: "expired",
        Status.NO_SHOW: "no-show",
        Status.CHECKED_OUT: "already-left",
    }.get(Status(booking.status), "no-valid-booking")
