"""What the API answers: resources from the write side, rows from the read models.

A booking and a pool's nights are shown as `berth.adapters.representations` has them
(re-exported here), the shape webhooks carry too.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields

from berth.adapters.representations import (
    Answer,
    Availability,
    Booking,
    GuestRecord,
    Night,
    NightPrice,
    PendingRefund,
    UtcDateTime,
)

__all__ = [
    "Answer",
    "Availability",
    "Booking",
    "GuestRecord",
    "Night",
    "NightPrice",
    "PendingRefund",
    "UtcDateTime",
]


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


class PaymentAnswer(Booking):
    payment_id = fields.String(required=True)


class RefundAnswer(Booking):
    refund_id = fields.String(required=True)


class BookingPage(Schema):
    bookings = fields.List(fields.Nested(Booking))
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor`; null on the last page"}
    )
    next = fields.String(
        allow_none=True, metadata={"description": "the next page's URL; null on the last page"}
    )


class DayList(Schema):
    facility_id = fields.UUID()
    date = fields.Date()
    bookings = fields.List(fields.Nested(Booking))


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
    status = fields.String(
        metadata={"description": "ok, or degraded when a projection failed or lags (see states)"}
    )
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
    failed = fields.List(
        fields.String(),
        metadata={"description": "503 from /health/projections: the projections unwell"},
    )
    statuses = fields.List(
        fields.Nested(ProjectionStatus),
        metadata={"description": "503 from /health/projections: every projection's status"},
    )
