"""Bodies and answers of the gate endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from berth.adapters.inputs import fields as bounded
from berth.adapters.read_models import plate_reads
from berth.config import MAX_CAMERA_GRACE_SECONDS
from berth.http.schemas.answers import Answer
from berth.http.schemas.base import Strict, min_position
from berth.http.schemas.commands import strict_int, text


class AddGate(Strict):
    name = text(100, required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["entry", "exit"]))
    early_grace_minutes = strict_int(0, 7 * 24 * 60, load_default=120)
    late_grace_minutes = strict_int(0, 7 * 24 * 60, load_default=30)
    passage_seconds = strict_int(0, 3600, load_default=60)


class Gate(Answer):
    id = fields.UUID(required=True)
    facility_id = fields.UUID(required=True)
    name = fields.String(required=True)
    direction = fields.String(required=True)
    early_grace_minutes = fields.Integer()
    late_grace_minutes = fields.Integer()
    passage_seconds = fields.Integer()


CAMERA_ID_MAX = 100


class RegisterCamera(Strict):
    # A camera id is a path segment (/facilities/{id}/cameras/{camera_id}): no "/".
    camera_id = bounded.identifier(
        CAMERA_ID_MAX,
        required=True,
        validate=[validate.Regexp(r"^[^/]*$", error="a camera id cannot contain '/'")],
    )


class Camera(Schema):
    camera_id = fields.String(required=True)
    gate_id = fields.UUID(required=True)
    facility_id = fields.UUID(metadata={"description": "camera ids are unique per facility"})
    secret = fields.String(
        required=True, metadata={"description": "shown once: sign webhook calls with it"}
    )
    position = fields.Integer()


class MoveCamera(Strict):
    gate_id = fields.UUID(required=True, metadata={"description": "a gate of the same facility"})


class RekeyCamera(Strict):
    grace_seconds = strict_int(
        0,
        MAX_CAMERA_GRACE_SECONDS,
        load_default=None,
        metadata={
            "description": "how long the previous secret is still accepted; 0 revokes it"
            " at once (a leaked secret); default BERTH_CAMERA_SECRET_GRACE_SECONDS"
        },
    )


class CameraPlacement(Answer):
    camera_id = fields.String(required=True)
    facility_id = fields.UUID(required=True)
    gate_id = fields.UUID(required=True)


class RekeyedCamera(Schema):
    camera_id = fields.String(required=True)
    facility_id = fields.UUID(required=True)
    gate_id = fields.UUID(required=True)
    secret = fields.String(
        required=True, metadata={"description": "shown once: sign webhook calls with it"}
    )
    previous_valid_until = fields.AwareDateTime(
        metadata={"description": "until then the previous secret is still accepted"}
    )
    version = fields.Integer()
    position = fields.Integer()


class OverstayTariff(Strict):
    hourly = bounded.money(required=True, metadata={"description": "minor units per hour"})


PlateReadBody = plate_reads.PlateReadPayload


class GateDecision(Schema):
    read_id = fields.String(required=True)
    decision = fields.String(required=True, metadata={"description": "open or deny"})
    open = fields.Boolean(required=True)
    reason = fields.String(required=True)
    booking_id = fields.UUID(allow_none=True)
    duplicate = fields.Boolean(
        metadata={"description": "the read was already stored; this is its first decision"}
    )
    position = fields.Integer()


class ResolveRead(Strict):
    booking_id = fields.UUID(load_default=None, allow_none=True)
    note = bounded.free_text(500, load_default="")


class Resolved(Schema):
    read_id = fields.String()
    facility_id = fields.UUID()
    booking_id = fields.UUID(allow_none=True)
    position = fields.Integer()


class OccupancyQuery(Strict):
    min_position = min_position()


class UnmatchedQuery(Strict):
    include_resolved = fields.Boolean(load_default=False)
    min_position = min_position()


class Vehicle(Schema):
    booking_id = fields.UUID()
    reference = fields.String()
    plate = fields.String()
    gate_id = fields.UUID()
    read_id = fields.String()
    arrived_at = fields.AwareDateTime()


class Overstay(Schema):
    booking_id = fields.UUID()
    reference = fields.String()
    hours = fields.Integer()
    amount = fields.Integer()
    currency = fields.String()


class Occupancy(Schema):
    facility_id = fields.UUID()
    on_site = fields.Integer()
    vehicles = fields.List(fields.Nested(Vehicle))
    overstays = fields.List(fields.Nested(Overstay))
    unmatched_reads = fields.Integer()


class UnmatchedRead(Schema):
    read_id = fields.String()
    gate_id = fields.UUID()
    direction = fields.String()
    camera_id = fields.String()
    plate = fields.String()
    confidence = fields.Float()
    captured_at = fields.AwareDateTime()
    reason = fields.String()
    resolved = fields.Boolean()
    booking_id = fields.UUID(allow_none=True)
    resolution_note = fields.String(allow_none=True)


class UnmatchedReads(Schema):
    facility_id = fields.UUID()
    reads = fields.List(fields.Nested(UnmatchedRead))
