"""The bookings projection: one row per booking, from the Booking events.

`fold` nets a page of events into one change per booking: a whole row for a
booking held in this page, otherwise the columns its later events set plus the
sums paid, refunded and charged for overstays, the refunds requested and settled,
and always its latest version, position and time.

`row_of` is the same row made from the aggregate, so a command's answer and a
query's show one booking the same way (see `berth.http.schemas.answers.Booking`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from berth.domain.booking import Booking, Status

NAME = "bookings"
TOPICS = frozenset(
    get_topic(cls)
    for cls in (
        Booking.Held,
        Booking.Confirmed,
        Booking.Amended,
        Booking.Cancelled,
        Booking.Expired,
        Booking.CheckedIn,
        Booking.CheckedOut,
        Booking.NoShowRecorded,
        Booking.PaymentRecorded,
        Booking.RefundRequested,
        Booking.RefundSucceeded,
        Booking.RefundFailed,
        Booking.VehicleArrived,
        Booking.VehicleDeparted,
        Booking.OverstayCharged,
    )
)

# Columns a later event may set; every other column is fixed when the booking is held.
CHANGEABLE = (
    "status",
    "arrival",
    "departure",
    "quantity",
    "guest",
    "plates",
    "total",
    "cancellation_fee",
    "night_prices",
)

_STATUS_OF: dict[type[Any], Status] = {
    Booking.Confirmed: Status.CONFIRMED,
    Booking.Expired: Status.EXPIRED,
    Booking.CheckedIn: Status.CHECKED_IN,
    Booking.CheckedOut: Status.CHECKED_OUT,
    Booking.NoShowRecorded: Status.NO_SHOW,
    Booking.VehicleArrived: Status.CHECKED_IN,
    Booking.VehicleDeparted: Status.CHECKED_OUT,
}


@dataclass
class BookingChange:
    booking_id: UUID
    version: int
    position: int
    modified_at: datetime
    created: dict[str, Any] | None = None  # the row as held, when held in this page
    sets: dict[str, Any] = field(default_factory=dict)  # columns from CHANGEABLE
    paid: int = 0  # added to what was paid before
    refunded: int = 0
    overstay_charged: int = 0
    refunds_requested: dict[str, int] = field(default_factory=dict)  # pending, added
    refunds_settled: set[str] = field(default_factory=set)  # pending, removed

    def request_refund(self, refund_id: str, amount: int) -> None:
        self.refunds_settled.discard(refund_id)
        self.refunds_requested[refund_id] = amount

    def settle_refund(self, refund_id: str) -> None:
        self.refunds_requested.pop(refund_id, None)
        self.refunds_settled.add(refund_id)

    def row(self) -> dict[str, Any]:
        """The whole row of a booking held in this page."""
        assert self.created is not None
        row = self.created | self.sets
        row["paid"] += self.paid
        row["refunded"] += self.refunded
        row["overstay_charged"] += self.overstay_charged
        row["pending_refunds"] = dict(self.refunds_requested)
        row.update(version=self.version, position=self.position, modified_at=self.modified_at)
        return row


def fold(events: Iterable[tuple[int, AggregateEvent]]) -> dict[UUID, BookingChange]:
    """The net change per booking of a page of (position, event) pairs, in order."""
    changes: dict[UUID, BookingChange] = {}
    for position, event in events:
        key = event.originator_id
        change = changes.get(key)
        if change is None:
            change = changes[key] = BookingChange(
                key, event.originator_version, position, event.timestamp
            )
        change.version = event.originator_version
        change.position = position
        change.modified_at = event.timestamp
        apply(change, event)
    return changes


def apply(change: BookingChange, event: AggregateEvent) -> None:
    if isinstance(event, Booking.Held):
        change.created = {
            "booking_id": event.originator_id,
            "reference": event.reference,
            "facility_id": event.facility_id,
            "pool_id": event.pool_id,
            "channel": event.channel,
            "status": Status.HELD.value,
            "arrival": event.arrival,
            "departure": event.departure,
            "quantity": event.quantity,
            "guest": event.guest,
            "plates": event.plates,
            "hold_expires_at": event.hold_expires_at,
            "currency": event.currency,
            "nightly_price": event.nightly_price,
            "total": event.total,
            "rate_plan": event.rate_plan,
            "night_prices": event.night_prices,
            "cancellation_fee": 0,
            "paid": 0,
            "refunded": 0,
            "overstay_charged": 0,
            "pending_refunds": {},
            "created_at": event.timestamp,
        }
    elif isinstance(event, Booking.Amended):
        change.sets.update(
            arrival=event.arrival,
            departure=event.departure,
            quantity=event.quantity,
            guest=event.guest,
            plates=event.plates,
            total=event.total,
        )
        if event.night_prices is not None:
            change.sets["night_prices"] = event.night_prices
    elif isinstance(event, Booking.Cancelled):
        change.sets.update(status=Status.CANCELLED.value, cancellation_fee=event.fee)
    elif isinstance(event, Booking.PaymentRecorded):
        change.paid += event.amount
    elif isinstance(event, Booking.RefundRequested):
        change.request_refund(event.refund_id, event.amount)
    elif isinstance(event, Booking.RefundSucceeded):
        change.refunded += event.amount
        change.settle_refund(event.refund_id)
    elif isinstance(event, Booking.RefundFailed):
        change.settle_refund(event.refund_id)
    elif isinstance(event, Booking.OverstayCharged):
        change.overstay_charged += event.amount
    elif type(event) in _STATUS_OF:
        change.sets["status"] = _STATUS_OF[type(event)].value


def row_of(booking: Booking, *, position: int) -> dict[str, Any]:
    """The row this projection holds for `booking` once it has applied `position`."""
    return {
        "booking_id": booking.id,
        "reference": booking.reference,
        "facility_id": booking.facility_id,
        "pool_id": booking.pool_id,
        "channel": booking.channel,
        "status": Status(booking.status).value,
        "arrival": booking.arrival,
        "departure": booking.departure,
        "quantity": booking.quantity,
        "guest": booking.guest,
        "plates": booking.plates,
        "hold_expires_at": booking.hold_expires_at,
        "currency": booking.currency,
        "nightly_price": booking.nightly_price,
        "total": booking.total,
        "rate_plan": booking.rate_plan,
        "night_prices": list(booking.night_prices),
        "cancellation_fee": booking.cancellation_fee,
        "paid": booking.paid,
        "refunded": booking.refunded,
        "overstay_charged": booking.overstay_charged,
        "pending_refunds": dict(booking.pending_refunds),
        "version": booking.version,
        "position": position,
        "created_at": booking.created_on,
        "modified_at": booking.modified_on,
    }
