"""Webhook subscriptions and their delivery log: what is asked for and what is answered."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from berth.adapters.inputs import fields as bounded
from berth.adapters.postgres import apikeys
from berth.adapters.webhooks import addresses, subscriptions
from berth.http.schemas.answers import UtcDateTime
from berth.http.schemas.base import Strict
from berth.projections.webhook_events import EVENT_TYPES

LAST_POSITION = 2**63 - 1


def _event_types(**kwargs: Any) -> fields.List[Any]:
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": f"one or more of {', '.join(EVENT_TYPES)}; default: all"},
        **kwargs,
    )


def _url(**kwargs: Any) -> bounded.Text:
    return bounded.text(
        addresses.MAX_URL,
        metadata={
            "description": "http(s); a public address (unless BERTH_WEBHOOKS_ALLOW_PRIVATE);"
            " redirects are not followed"
        },
        **kwargs,
    )


class CreateWebhook(Strict):
    url = _url(required=True)
    event_types = _event_types(load_default=None)
    channel = fields.String(
        load_default=None,
        validate=validate.Regexp(rf"\A{apikeys.CHANNEL.pattern}\Z"),
        metadata={
            "description": "admin: only this channel's bookings (default: every channel);"
            " a booking key's subscription is always its own channel's"
        },
    )
    description = bounded.text(subscriptions.MAX_DESCRIPTION, minimum=0, load_default="")


class UpdateWebhook(Strict):
    url = _url()
    event_types = _event_types()
    description = bounded.text(subscriptions.MAX_DESCRIPTION, minimum=0)
    state = fields.String(
        validate=validate.OneOf(subscriptions.SETTABLE_STATES),
        metadata={"description": "paused: nothing is planned or sent; active resumes (a"
                  " disabled subscription too) from where it stopped"},
    )  # fmt: skip


class RotateWebhookSecret(Strict):
    grace_seconds = bounded.whole(
        0,
        subscriptions.MAX_GRACE_SECONDS,
        load_default=subscriptions.DEFAULT_GRACE_SECONDS,
        metadata={
            "description": "how long the secret before keeps signing too (every delivery"
            " carries both signatures meanwhile); 0 revokes it at once; default 86400 (24 h),"
            " at most 2592000 (30 days)"
        },
    )


class WebhookListQuery(Strict):
    cursor = fields.UUID(
        load_default=None, metadata={"description": "`next_cursor` of the page before"}
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class DeliveryListQuery(Strict):
    cursor = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=LAST_POSITION),
        metadata={"description": "`next_cursor` of the page before (newest first)"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    status = fields.String(
        load_default=None, validate=validate.OneOf(("pending", "delivered", "failed"))
    )


class ReplayQuery(Strict):
    from_position = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=LAST_POSITION),
        metadata={"description": "send again every wanted event from this store position on"},
    )


class DeliveryCounts(Schema):
    pending = fields.Integer()
    delivered = fields.Integer()
    failed = fields.Integer()


class Webhook(Schema):
    id = fields.UUID(attribute="subscription_id", required=True)
    channel = fields.String(allow_none=True, metadata={"description": "null: every channel"})
    url = fields.String(required=True)
    event_types = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    state = fields.String(
        required=True,
        metadata={"description": "active, paused, or disabled (after failing too long)"},
    )
    position = fields.Integer(
        required=True, metadata={"description": "the last store position planned"}
    )
    failing_since = UtcDateTime(allow_none=True)
    disabled_at = UtcDateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)
    created_by = fields.String(required=True)
    updated_at = UtcDateTime(required=True)
    previous_valid_until = UtcDateTime(
        allow_none=True,
        metadata={"description": "the secret before the last rotation also signs until then"},
    )
    secret_rotated_at = UtcDateTime(allow_none=True)
    secret_rotated_by = fields.String(
        allow_none=True, metadata={"description": "the key that rotated the secret last"}
    )
    deliveries = fields.Nested(DeliveryCounts)


class WebhookWithSecret(Webhook):
    secret = fields.String(
        required=True,
        metadata={"description": "whsec_...: verifies webhook-signature; shown this once"},
    )


class WebhookPage(Schema):
    webhooks = fields.List(fields.Nested(Webhook))
    next_cursor = fields.UUID(allow_none=True)


class Delivery(Schema):
    webhook_id = fields.UUID(
        required=True, metadata={"description": "the webhook-id header; same on every attempt"}
    )
    position = fields.Integer(required=True)
    event_type = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"description": "pending, retrying, delivered or failed"}
    )
    attempts = fields.Integer(required=True)
    replays = fields.Integer(required=True)
    next_attempt_at = UtcDateTime(allow_none=True)
    first_attempt_at = UtcDateTime(allow_none=True)
    last_attempt_at = UtcDateTime(allow_none=True)
    response_code = fields.Integer(allow_none=True)
    latency_ms = fields.Float(allow_none=True)
    response_body = fields.String(
        allow_none=True, metadata={"description": "the answer's first 1024 bytes"}
    )
    error = fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)
    delivered_at = UtcDateTime(allow_none=True)


class DeliveryPage(Schema):
    deliveries = fields.List(fields.Nested(Delivery))
    next_cursor = fields.Integer(allow_none=True)


class Ping(Schema):
    webhook_id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={"description": "pending: the worker sends it"})
