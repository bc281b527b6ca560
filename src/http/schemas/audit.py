"""Query strings and answers of the audit endpoints (`/audit/...`): history, as-of, the books."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from berth.adapters.inputs import fields as bounded
from berth.http.schemas.base import Strict
from berth.http.schemas.ledger import AccountBalance

POSITION = validate.Range(min=0, max=2**63 - 1)


class HistoryQuery(Strict):
    cursor = fields.Integer(
        validate=POSITION,
        metadata={"description": "the `next_cursor` of the last page: the version it ended at"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class CutQuery(Strict):
    as_of = bounded.Moment(
        metadata={
            "description": "a time with its UTC offset (`Z`, or `%2B02:00` in a URL): "
            "the events up to the first one stamped after it"
        }
    )
    position = fields.Integer(
        validate=POSITION, metadata={"description": "the events stored up to this position"}
    )

    @validates_schema
    def exactly_one_cut(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("as_of" in data) == ("position" in data):
            raise ValidationError("give `as_of` or `position`, exactly one of the two", "_schema")


class TrialBalanceCutQuery(CutQuery):
    facility_id = fields.UUID(required=True)
    from_zero = fields.Boolean(
        load_default=False,
        metadata={"description": "replay from position zero, not from the nearest checkpoint"},
    )


class EventCause(Schema):
    principal = fields.String()
    channel = fields.String()
    request_id = fields.String()
    correlation_id = fields.String()


class HistoryEvent(Schema):
    aggregate_id = fields.UUID()
    aggregate_type = fields.String(metadata={"description": "e.g. Booking, Pool, NightInventory"})
    version = fields.Integer()
    position = fields.Integer(metadata={"description": "the event's position in the store"})
    timestamp = fields.AwareDateTime()
    type = fields.String(metadata={"description": "the event's class, e.g. Booking.Held"})
    data = fields.Dict(
        metadata={"description": "the event's own fields, upcast to its latest version"}
    )
    cause = fields.Nested(EventCause, metadata={"description": "who caused the event"})
    state = fields.Dict(metadata={"description": "the aggregate's state after the event"})


class HistoryPage(Schema):
    events = fields.List(fields.Nested(HistoryEvent))
    next_cursor = fields.Integer(
        allow_none=True, metadata={"description": "pass as `cursor`; null on the last page"}
    )


class StateAsOf(HistoryEvent):
    as_of = fields.AwareDateTime(allow_none=True, metadata={"description": "as asked"})
    asked_position = fields.Integer(allow_none=True, metadata={"description": "as asked"})


class TrialBalanceAsOf(Schema):
    facility_id = fields.UUID()
    currency = fields.String(allow_none=True)
    as_of = fields.AwareDateTime(allow_none=True, metadata={"description": "as asked"})
    position = fields.Integer(allow_none=True, metadata={"description": "as asked"})
    through_position = fields.Integer(
        metadata={"description": "the position of the last event replayed"}
    )
    events_replayed = fields.Integer(metadata={"description": "ledger events replayed"})
    replayed_from = fields.Integer(
        metadata={"description": "the checkpoint's position the replay started from (0: none)"}
    )
    entries = fields.Integer(metadata={"description": "journal entries of the facility posted"})
    accounts = fields.List(fields.Nested(AccountBalance))
    total_debits = fields.Integer()
    total_credits = fields.Integer()
    balanced = fields.Boolean(metadata={"description": "total debits equal total credits"})
