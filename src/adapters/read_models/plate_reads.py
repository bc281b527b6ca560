"""Recording a plate read, whichever way it arrived (signed webhook or Kafka topic).

Both inlets validate the same payload and call `record`: it finds the bookings
that may carry the plate in the bookings read model (waiting briefly for that
read model when the plate is unknown, in case the booking was confirmed a
moment ago), then lets the command side decide and store the read once per
(facility, read id): the facility is the gate's, whichever inlet the read came by.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from marshmallow import fields, validate

from berth.adapters.inputs import fields as bounded
from berth.adapters.read_models import gate_queries, queries
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.gate import Gate
from berth.domain.gate_commands import ReadOutcome

# How long an unknown plate waits for the bookings read model to catch up.
CATCH_UP_SECONDS = 0.25


READ_ID_MAX = 200


class PlateReadPayload(bounded.BoundedSchema):
    """A plate read as cameras and vendor gateways send it."""

    read_id = bounded.identifier(READ_ID_MAX, required=True)
    camera_id = bounded.identifier(100, required=True)
    plate = bounded.text(20, required=True)
    confidence = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    captured_at = bounded.Moment(required=True)
    candidates = fields.List(bounded.text(20), load_default=list, validate=validate.Length(max=10))
    image_ref = bounded.Text(500, minimum=0, load_default=None, allow_none=True)


def record(
    app: Reservations,
    conn: psycopg.Connection[Any],
    *,
    gate: Gate,
    read: dict[str, Any],
    cause: Cause,
) -> ReadOutcome:
    """Decide on a validated read at `gate` and store it (once per facility and read id)."""
    plates = [read["plate"], *read["candidates"]]

    def carrying() -> list[UUID]:
        return gate_queries.bookings_carrying(
            conn,
            facility_id=gate.facility_id,
            plates=plates,
            captured_at=read["captured_at"],
            early_grace_minutes=gate.early_grace_minutes,
            late_grace_minutes=gate.late_grace_minutes,
        )

    booking_ids = carrying()
    if not booking_ids:
        head = app.recorder.max_notification_id() or 0
        queries.wait_for_position(
            conn, projections=["bookings"], min_position=head, timeout=CATCH_UP_SECONDS
        )
        booking_ids = carrying()
    return app.record_plate_read(
        read_id=read["read_id"],
        camera_id=read["camera_id"],
        gate_id=gate.id,
        plate=read["plate"],
        confidence=read["confidence"],
        captured_at=read["captured_at"],
        candidates=read["candidates"],
        image_ref=read["image_ref"],
        booking_ids=booking_ids,
        cause=cause,
    )
