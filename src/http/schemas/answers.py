"""What the API answers: resources from the write side, rows from the read models."""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, fields, pre_dump

from berth.domain.guest import upcast_guest_v1_v2


class Answer(Schema):
    """A command's answer carries the resource's version and its last event's position."""

    version = fields.Integer(required=True)
    position = fields.Integer(metadata={"description": "pass as `min_position` to read this write"})


class Facility(Answer):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    time_zone = fields.String(required=True)


class Cancellation(Schema):
    free_until_hours = fields.Integer()
    fee_percent = fields.Integer()


class Pool(Answer):
    id = fields.UUID(required=True)
    facility_id = fields.UUID(required=True)
    name = fields.String(required=True)
    capacity = fields.Integer(required=True)
    nightly_price = fields.Integer(required=True)
    currency = fields.String(required=True)
    time_zone = fields.String(required=True)
    cancellation = fields.Nested(Cancellation)


class PendingRefund(Schema):
    refund_id = fields.String()
    amount = fields.Integer()


class GuestRecord(Schema):
    given_name = fields.String()
    family_name = fields.String(metadata={"description": "empty for a guest with one name"})
    name = fields.Method(
        "get_name",
        metadata={
            "description": "given and family name joined by a space, for clients of the first "
            "guest shape; read-only, derived"
        },
    )
    email = fields.String()
    phone = fields.String()

    @pre_dump
    def upcast(self, guest: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        """Rows a bookings read model wrote before version 2 carry `name`: shown split too."""
        return upcast_guest_v1_v2(dict(guest))

    def get_name(self, guest: dict[str, str]) -> str:
        return " ".join(p for p in (guest.get("given_name"), guest.get("family_name")) if p)


class BookingFields(Schema):
    reference = fields.String(required=True)
    facility_id = fields.UUID(required=True)
    pool_id = fields.UUID(required=True)
    channel = fields.String(required=True)
    status = fields.String(required=True)
    arrival = fields.Date(required=True)
    departure = fields.Date(required=True)
    quantity = fields.Integer(required=True)
    guest = fields.Nested(GuestRecord)
    plates = fields.List(fields.String())
    hold_expires_at = fields.AwareDateTime()
    currency = fields.String()
    nightly_price = fields.Integer()
    total = fields.Integer()
    cancellation_fee = fields.Integer()
    paid = fields.Integer()
    refunded = fields.Integer()
    version = fields.Integer(required=True)


class Booking(BookingFields, Answer):
    """A booking as the command side holds it."""

    id = fields.UUID(required=True)
    balance_due = fields.Method("get_balance_due")
    pending_refunds = fields.Method("get_pending_refunds")

    def get_balance_due(self, booking: Any) -> int:
        return int(booking.balance_due())

    def get_pending_refunds(self, booking: Any) -> list[dict[str, Any]]:
        return [{"refund_id": k, "amount": v} for k, v in booking.pending_refunds.items()]


class PaymentAnswer(Booking):
    payment_id = fields.String()


class RefundAnswer(Booking):
    refund_id = fields.String()


class BookingRecord(BookingFields):
    """A booking as the bookings read model holds it."""

    id = fields.UUID(attribute="booking_id", required=True)
    position = fields.Integer(required=True)
    created_at = fields.AwareDateTime()
    modified_at = fields.AwareDateTime()


class BookingPage(Schema):
    bookings = fields.List(fields.Nested(BookingRecord))
    next_cursor = fields.Integer(
        allow_none=True, metadata={"description": "pass as `cursor`; null on the last page"}
    )


class DayList(Schema):
    facility_id = fields.UUID()
    date = fields.Date()
    bookings = fields.List(fields.Nested(BookingRecord))


class Night(Schema):
    night = fields.Date()
    capacity = fields.Integer()
    held = fields.Integer()
    confirmed = fields.Integer()
    remaining = fields.Integer()


class Availability(Schema):
    pool_id = fields.UUID()
    nights = fields.List(fields.Nested(Night))


class ProjectionFailure(Schema):
    position = fields.Integer(metadata={"description": "the event it cannot apply"})
    error_class = fields.String()
    error_message = fields.String()
    first_seen = fields.AwareDateTime()
    last_seen = fields.AwareDateTime()
    attempts = fields.Integer()


class ProjectionStatus(Schema):
    projection = fields.String()
    position = fields.Integer()
    head = fields.Integer()
    lag_events = fields.Integer()
    lag_seconds = fields.Float()
    state = fields.String(metadata={"description": "ok, lagging or failed"})
    failure = fields.Nested(ProjectionFailure, allow_none=True)


class Projections(Schema):
    projections = fields.List(fields.Nested(ProjectionStatus))


class Health(Schema):
    status = fields.String(metadata={"description": "ok or unavailable"})
    database = fields.String()
    projections = fields.List(fields.Nested(ProjectionStatus))


class Problem(Schema):
    """RFC 9457 problem details; further extension members may be added (clients ignore them)."""

    class Meta:
        unknown = INCLUDE  # additionalProperties: true, as RFC 9457 allows extension members

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String()
    errors = fields.Dict(metadata={"description": "field errors of invalid input"})
    projections = fields.List(
        fields.String(), metadata={"description": "503: the read models that were behind"}
    )
    min_position = fields.Integer(metadata={"description": "503: the position asked for"})
