"""Bodies and answers of the admin endpoints for a failed projection: skip or retry an event."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from berth.adapters.inputs import fields as bounded
from berth.http.schemas.base import Strict

POSITION = validate.Range(min=1, max=2**63 - 1)


class SkipEvent(Strict):
    position = fields.Integer(strict=True, required=True, validate=POSITION)
    reason = bounded.free_text(500, required=True)


class RetryEvent(Strict):
    position = fields.Integer(strict=True, required=True, validate=POSITION)


class Skipped(Schema):
    projection = fields.String(required=True)
    skipped = fields.Integer(required=True, metadata={"description": "the position passed over"})
    position = fields.Integer(metadata={"description": "the skip event's own position"})


class Retried(Schema):
    projection = fields.String(required=True)
    retried = fields.Integer(required=True, metadata={"description": "the position tried again"})
