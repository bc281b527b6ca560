"""Query strings of the query endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from berth.adapters.inputs import fields as bounded
from berth.domain.booking import Status
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
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    arrival = bounded.Day()
    channel = bounded.identifier(100)
    modified_since = bounded.Moment()
    cursor = fields.Integer(validate=validate.Range(min=0, max=2**63 - 1))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DayQuery(Consistent):
    date = bounded.Day(required=True)
    channel = bounded.identifier(100)
