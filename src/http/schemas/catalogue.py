"""What the catalogue lists and items answer, and the query strings of its lists."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from berth.adapters.inputs import fields as bounded
from berth.http.paging import MAX_CURSOR
from berth.http.schemas.answers import Cancellation, UtcDateTime
from berth.http.schemas.queries import Consistent


class CatalogueQuery(Consistent):
    cursor = bounded.text(MAX_CURSOR, metadata={"description": "a page's `next_cursor`"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PoolQuery(CatalogueQuery):
    facility_id = fields.UUID()


class Entry(Schema):
    version = fields.Integer(required=True, metadata={"description": "also the ETag"})
    position = fields.Integer(
        required=True, metadata={"description": "the position of its last event"}
    )
    created_at = UtcDateTime(required=True)
    modified_at = UtcDateTime(required=True)


class FacilityEntry(Entry):
    id = fields.UUID(attribute="facility_id", required=True)
    name = fields.String(required=True)
    time_zone = fields.String(required=True)
    currency = fields.String(
        allow_none=True, metadata={"description": "of its books: its first pool's; null before"}
    )


class PoolEntry(Entry):
    id = fields.UUID(attribute="pool_id", required=True)
    facility_id = fields.UUID(required=True)
    name = fields.String(required=True)
    capacity = fields.Integer(
        required=True, metadata={"description": "per night, unless changed for some nights"}
    )
    nightly_price = fields.Integer(required=True, metadata={"description": "minor units"})
    currency = fields.String(required=True)
    tax_rate_bp = fields.Integer(
        required=True, metadata={"description": "tax included in the price, basis points"}
    )
    time_zone = fields.String(required=True)
    cancellation = fields.Nested(Cancellation, required=True)
    overstay_hourly = fields.Integer(
        required=True, metadata={"description": "charged per started hour past the stay"}
    )


class GateEntry(Entry):
    id = fields.UUID(attribute="gate_id", required=True)
    facility_id = fields.UUID(required=True)
    name = fields.String(required=True)
    direction = fields.String(required=True)
    early_grace_minutes = fields.Integer(required=True)
    late_grace_minutes = fields.Integer(required=True)
    passage_seconds = fields.Integer(required=True)


class CameraEntry(Entry):
    """A camera, never its secret."""

    camera_id = fields.String(required=True)
    facility_id = fields.UUID(required=True)
    gate_id = fields.UUID(required=True)
    rekeyed_at = UtcDateTime(allow_none=True)
    previous_valid_until = UtcDateTime(
        allow_none=True, metadata={"description": "the previous secret is accepted until then"}
    )


class Page(Schema):
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "pass as `cursor`; null on the last page"}
    )
    next = fields.String(
        allow_none=True, metadata={"description": "the next page's URL; null on the last page"}
    )


class FacilityPage(Page):
    facilities = fields.List(fields.Nested(FacilityEntry), required=True)


class PoolPage(Page):
    pools = fields.List(fields.Nested(PoolEntry), required=True)


class GatePage(Page):
    gates = fields.List(fields.Nested(GateEntry), required=True)


class CameraPage(Page):
    cameras = fields.List(fields.Nested(CameraEntry), required=True)
