"""API key management (admin): what is asked for and what is answered; never a secret but once."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from berth.adapters.postgres import apikeys
from berth.http.schemas.base import Strict


class CreateKey(Strict):
    role = fields.String(required=True, validate=validate.OneOf(apikeys.ROLES))
    scope = fields.String(
        load_default="",
        validate=validate.Length(max=64),
        metadata={
            "description": "booking: its channel; gate_device: a facility id; other roles: none"
        },
    )
    label = fields.String(
        load_default="",
        validate=validate.Length(max=apikeys.MAX_LABEL),
        metadata={"description": "who or what the key is for"},
    )


class KeyListQuery(Strict):
    cursor = fields.String(
        load_default="",
        validate=validate.Length(max=16),
        metadata={"description": "`next_cursor` of the page before"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class Key(Schema):
    key_id = fields.String(required=True, metadata={"description": "public; the events' principal"})
    role = fields.String(required=True)
    scope = fields.String(required=True)
    label = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    created_by = fields.String(required=True)
    rotated_at = fields.AwareDateTime(allow_none=True)
    rotated_by = fields.String(allow_none=True)
    revoked = fields.Boolean(required=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    last_used_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "last looked up (to within a minute or so)"}
    )


class KeyWithToken(Key):
    token = fields.String(
        required=True, metadata={"description": "shown this once; only its hash is stored"}
    )


class KeyPage(Schema):
    keys = fields.List(fields.Nested(Key))
    next_cursor = fields.String(allow_none=True)
