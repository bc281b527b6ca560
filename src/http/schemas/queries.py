"""Query strings of the query endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from berth.adapters.inputs import fields as bounded
from berth.domain.booking import Status
from berth.http.paging import MAX_CURSOR
from berth.http.schemas.base import Strict, min_position

MAX_NIGHTS = 366


class Consistent(Strict):
    min_position = min_position()


class AvailabilityQuery(Consistent):
    pool_id = fields.UUID(required=True)
    first = bounded.Day(required=True, data_key="from", metadata={"description": "first night"})
    last = bounded.Day(required=True, data_key="to", metadata={"description": "last night"})

    @validates_schema
    def a_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "first" not in data or "last" not in data:
            return
        nights = (data["last"] - data["first"]).days + 1
        if nights < 1:
            raise ValidationError("`to` cannot be before `from`", "to")
        if nights > MAX_NIGHTS:
            raise ValidationError(f"at most {MAX_NIGHTS} nights at a time", "to")


class BookingListQuery(Consistent):
    facility_id = fields.UUID()
    pool_id = fields.UUID()
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    arrival = bounded.Day()
    channel = bounded.identifier(100)
    modified_since = bounded.Moment()
    reference = bounded.text(
        20, metadata={"description": "the booking's reference; case and separators ignored"}
    )
    plate = bounded.text(32, metadata={"description": "normalised like the gates: AB-12 c = AB12C"})
    guest = bounded.text(
        200,
        metadata={
            "description": "every word within the guest's name, case- and accent-insensitive"
        },
    )
    email = bounded.text(254, metadata={"description": "the guest's e-mail, case-insensitive"})
    stay_from = bounded.Day(metadata={"description": "stays with a night on or after this"})
    stay_to = bounded.Day(metadata={"description": "stays with a night on or before this"})
    order = fields.String(
        load_default="position",
        validate=validate.OneOf(["position", "arrival", "-arrival", "created", "-created"]),
        metadata={"description": "position (change order), arrival or created; - descending"},
    )
    cursor = bounded.text(
        MAX_CURSOR,
        metadata={"description": "a page's `next_cursor` (a plain position still works)"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))

    @validates_schema
    def a_stay_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        first, last = data.get("stay_from"), data.get("stay_to")
        if first is not None and last is not None and last < first:
            raise ValidationError("`stay_to` cannot be before `stay_from`", "stay_to")


class DayQuery(Consistent):
    date = bounded.Day(required=True)
    channel = bounded.identifier(100)
