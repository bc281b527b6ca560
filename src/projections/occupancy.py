"""The occupancy projection: vehicles on site, every plate read, unmatched reads, overstays.

Gate traffic is light next to bookings, so `fold` keeps a page's changes as an
ordered list of row operations rather than netting them per key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from berth.domain.booking import Booking
from berth.domain.gate import Gate
from berth.domain.plate_read import PlateRead

NAME = "occupancy"
TOPICS = frozenset(
    get_topic(cls)
    for cls in (
        Gate.Added,
        Booking.Held,
        Booking.VehicleArrived,
        Booking.VehicleDeparted,
        Booking.OverstayCharged,
        PlateRead.Recorded,
        PlateRead.Resolved,
    )
)


@dataclass(frozen=True)
class Operation:
    """One row operation, named for the adapter's statement, with its parameters."""

    kind: str
    params: dict[str, Any]


def fold(events: Iterable[tuple[int, AggregateEvent]]) -> list[Operation]:
    return [op for position, event in events for op in operations(position, event)]


def operations(position: int, event: AggregateEvent) -> list[Operation]:
    key = event.originator_id
    if isinstance(event, Gate.Added):
        params = {"gate_id": key, "facility_id": event.facility_id, "name": event.name,
                  "direction": event.direction}  # fmt: skip
        return [Operation("gate", params)]
    if isinstance(event, Booking.Held):
        params = {"booking_id": key, "facility_id": event.facility_id,
                  "reference": event.reference}  # fmt: skip
        return [Operation("booking", params)]
    if isinstance(event, Booking.VehicleArrived):
        params = {"booking_id": key, "plate": event.plate, "gate_id": event.gate_id,
                  "read_id": event.read_id, "arrived_at": event.captured_at}  # fmt: skip
        return [Operation("arrived", params)]
    if isinstance(event, Booking.VehicleDeparted):
        return [Operation("departed", {"booking_id": key})]
    if isinstance(event, Booking.OverstayCharged):
        params = {"booking_id": key, "hours": event.hours, "amount": event.amount,
                  "currency": event.currency}  # fmt: skip
        return [Operation("overstay", params)]
    if isinstance(event, PlateRead.Recorded):
        params = {
            "read_id": event.read_id, "read_key": key, "facility_id": event.facility_id,
            "gate_id": event.gate_id, "direction": event.direction, "camera_id": event.camera_id,
            "plate": event.plate, "confidence": event.confidence,
            "captured_at": event.captured_at, "open": event.open, "reason": event.reason,
            "booking_id": event.booking_id, "position": position,
        }  # fmt: skip
        return [Operation("read", params)]
    if isinstance(event, PlateRead.Resolved):
        params = {"read_key": key, "booking_id": event.booking_id, "note": event.note}
        return [Operation("resolved", params)]
    return []
