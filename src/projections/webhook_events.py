"""Which store events a webhook subscriber hears of, and by what name.

A pure mapping from an event's topic to its webhook event type: the booking's
lifecycle, its payments and refunds and its overstay charges (a gate's
passages are the booking's check-in and check-out), whose payload is the
booking as it stood right after the event; and `availability.changed`, a
pool's night whose capacity or allocations changed, whose payload is that
night as GET /availability shows it (see `berth.workers.webhook_payloads`).
Availability is no channel's: every subscription that asks for it hears of it,
and only those that ask (it is not among the default types).
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from berth.domain.booking import Booking
from berth.domain.inventory import NightInventory

PING = "webhook.ping"
AVAILABILITY_CHANGED = "availability.changed"

_TYPES = {
    Booking.Held: "booking.held",
    Booking.Confirmed: "booking.confirmed",
    Booking.Amended: "booking.amended",
    Booking.Cancelled: "booking.cancelled",
    Booking.Expired: "booking.expired",
    Booking.CheckedIn: "booking.checked-in",
    Booking.VehicleArrived: "booking.checked-in",
    Booking.CheckedOut: "booking.checked-out",
    Booking.VehicleDeparted: "booking.checked-out",
    Booking.NoShowRecorded: "booking.no-show",
    Booking.PaymentRecorded: "payment.recorded",
    Booking.RefundRequested: "refund.requested",
    Booking.RefundSucceeded: "refund.succeeded",
    Booking.RefundFailed: "refund.failed",
    Booking.OverstayCharged: "overstay.charged",
    NightInventory.CapacitySet: AVAILABILITY_CHANGED,
    NightInventory.Allocated: AVAILABILITY_CHANGED,
    NightInventory.Firmed: AVAILABILITY_CHANGED,
    NightInventory.Released: AVAILABILITY_CHANGED,
}

TYPE_OF_TOPIC: dict[str, str] = {get_topic(cls): name for cls, name in _TYPES.items()}
TOPICS = frozenset(TYPE_OF_TOPIC)
# What a subscription may ask for (a ping is sent whatever it asked for).
EVENT_TYPES: tuple[str, ...] = tuple(sorted(set(TYPE_OF_TOPIC.values())))
# What a subscription that names no types gets: everything about bookings.
DEFAULT_EVENT_TYPES = tuple(t for t in EVENT_TYPES if t != AVAILABILITY_CHANGED)
BOOKING_TOPICS = frozenset(get_topic(cls) for cls in _TYPES if issubclass(cls, Booking.Event))


def webhook_type(topic: str) -> str | None:
    """The webhook event type of a stored event's topic, None for events no one hears of."""
    return TYPE_OF_TOPIC.get(topic)


def wanted(event_type: str, *, subscribed: frozenset[str]) -> bool:
    """Whether a subscription to `subscribed` types receives an event of `event_type`."""
    return event_type in subscribed
