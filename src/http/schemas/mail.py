"""Partner mail: partners (admin) and the quarantine (operations), asked and answered."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from berth.adapters.inputs import fields as bounded
from berth.domain.partner_mail import formats, senders
from berth.http.schemas.base import Strict


class CreatePartner(Strict):
    name = bounded.text(100, required=True)
    channel = bounded.text(100, required=True, metadata={"description": "its bookings' channel"})
    pool_id = fields.UUID(required=True, metadata={"description": "the pool it books"})
    senders = fields.List(
        bounded.text(254),
        required=True,
        validate=validate.Length(min=1, max=senders.MAX_SENDERS),
        metadata={"description": "addresses (a@b.example) or domains (@b.example)"},
    )
    format = fields.Dict(
        load_default=dict,
        metadata={
            "description": "kind (key-value, csv, ics), fields, actions, date_format, delimiter"
        },
    )
    secret = bounded.text(
        200,
        load_default=None,
        allow_none=True,
        metadata={"description": "a shared secret each mail carries in X-Partner-Secret"},
    )
    require_dkim = fields.Boolean(load_default=False)
    dkim_public_key = bounded.text(
        2000,
        load_default=None,
        allow_none=True,
        metadata={"description": "pinned key (base64); else DNS"},
    )

    @validates("format")
    def known_format(self, value: dict[str, Any], **_: Any) -> None:
        try:
            formats.from_config(value)
        except formats.InvalidFormat as error:
            raise ValidationError(str(error)) from None

    @validates("senders")
    def sender_forms(self, value: list[str], **_: Any) -> None:
        try:
            for sender in value:
                senders.normal(sender)
        except senders.InvalidSender as error:
            raise ValidationError(str(error)) from None


class PartnerListQuery(Strict):
    cursor = fields.String(load_default="", validate=validate.Length(max=100))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class Partner(Schema):
    partner_id = fields.UUID(required=True)
    name = fields.String(required=True)
    channel = fields.String(required=True)
    pool_id = fields.UUID(required=True)
    senders = fields.List(fields.String(), required=True)
    format = fields.Dict(required=True)
    has_secret = fields.Boolean(required=True)
    require_dkim = fields.Boolean(required=True)
    dkim_public_key = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class PartnerPage(Schema):
    partners = fields.List(fields.Nested(Partner))
    next_cursor = fields.String(allow_none=True)


class QuarantineQuery(Strict):
    cursor = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**63 - 1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class Item(Schema):
    item = fields.Integer(required=True)
    partner_reference = fields.String(required=True)
    action = fields.String(required=True)
    outcome = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    booking_id = fields.UUID(allow_none=True)


class Mail(Schema):
    mail_id = fields.Integer(required=True)
    message_id = fields.String(required=True)
    partner_id = fields.UUID(allow_none=True)
    sender = fields.String(required=True)
    subject = fields.String(required=True)
    inlet = fields.String(required=True)
    size = fields.Integer(required=True)
    status = fields.String(required=True)
    reason = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    round = fields.Integer(required=True)
    received_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    items = fields.List(fields.Nested(Item))


class QuarantinePage(Schema):
    mails = fields.List(fields.Nested(Mail))
    next_cursor = fields.Integer(allow_none=True)
