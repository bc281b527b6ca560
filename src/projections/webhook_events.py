"""Which store events a webhook subscriber hears of, and by what name.

A pure mapping from an event's topic to its webhook event type: the booking's
lifecycle, its payments and refunds and its overstay charges. A gate's
passages are the booking's check-in and check-out. Every type's payload is the
booking as it stood right after the event (see `berth.workers.webhooks`).
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from berth.domain.booking import Booking

PING = "webhook.ping"

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
}

TYPE_OF_TOPIC: dict[str, str] = {get_topic(cls): name for cls, name in _TYPES.items()}
TOPICS = frozenset(TYPE_OF_TOPIC)
# What a subscription may ask for (a ping is sent whatever it asked for).
EVENT_TYPES: tuple[str, ...] = tuple(sorted(set(TYPE_OF_TOPIC.values())))


def webhook_type(topic: str) -> str | None:
    """The webhook event type of a stored event's topic, None for events no one hears of."""
    return TYPE_OF_TOPIC.get(topic)


def wanted(event_type: str, *, subscribed: frozenset[str]) -> bool:
    """Whether a subscription to `subscribed` types receives an event of `event_type`."""
    return event_type in subscribed
