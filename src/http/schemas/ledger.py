"""Query strings, bodies and answers of the finance endpoints (`/ledger`, night audit, tax)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from berth.adapters.inputs import fields as bounded
from berth.http.schemas.base import Strict
from berth.http.schemas.queries import Consistent
from berth.projections.ledger_books import Account

MAX_DAYS = 366
CURSOR = r"^\d{1,19}\.\d{1,9}\.\d{1,5}$"


def account() -> fields.String:
    return fields.String(
        validate=validate.OneOf([a.value for a in Account]),
        metadata={"description": "an account of the chart: " + ", ".join(a.value for a in Account)},
    )


def _range(data: dict[str, Any], *, required: bool) -> None:
    first, last = data.get("first"), data.get("last")
    if first is None or last is None:
        return
    if last < first:
        raise ValidationError("`to` cannot be before `from`", "to")
    if required and (last - first).days + 1 > MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days at a time", "to")


class AsOfQuery(Consistent):
    facility_id = fields.UUID(required=True)
    as_of = bounded.Day(metadata={"description": "business dates up to this one, inclusive"})
    position = fields.Integer(
        validate=validate.Range(min=0, max=2**63 - 1),
        metadata={"description": "entries caused by events up to this position"},
    )

    @validates_schema
    def one_cut(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("as_of") is not None and data.get("position") is not None:
            raise ValidationError("give `as_of` or `position`, not both", "position")


class JournalFilters(Consistent):
    facility_id = fields.UUID()
    account = account()
    booking_id = fields.UUID()
    first = bounded.Day(data_key="from", metadata={"description": "first business date"})
    last = bounded.Day(data_key="to", metadata={"description": "last business date, inclusive"})

    @validates_schema
    def a_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        _range(data, required=False)


class JournalQuery(JournalFilters):
    cursor = fields.String(
        validate=validate.Regexp(CURSOR, error="pass back the `next_cursor` of the last page")
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class RevenueQuery(Consistent):
    facility_id = fields.UUID(required=True)
    first = bounded.Day(required=True, data_key="from")
    last = bounded.Day(required=True, data_key="to", metadata={"description": "inclusive"})

    @validates_schema
    def a_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        _range(data, required=True)


class SetTaxRate(Strict):
    rate_bp = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=10_000),
        metadata={"description": "tax included in prices, in basis points: 2000 is 20%"},
    )


class ReverseEntry(Strict):
    reason = bounded.free_text(500, minimum=1, required=True)


# -- answers ------------------------------------------------------------------------


class AccountBalance(Schema):
    account = fields.String()
    normal_side = fields.String(metadata={"description": "debit (assets) or credit"})
    debits = fields.Integer()
    credits = fields.Integer()
    balance = fields.Integer(metadata={"description": "as the account shows it"})


class Balances(Schema):
    facility_id = fields.UUID()
    currency = fields.String(allow_none=True)
    as_of = fields.Date(allow_none=True)
    position = fields.Integer(allow_none=True)
    accounts = fields.List(fields.Nested(AccountBalance))


class TrialBalance(Balances):
    total_debits = fields.Integer()
    total_credits = fields.Integer()
    balanced = fields.Boolean(metadata={"description": "total debits equal total credits"})


class JournalLine(Schema):
    entry_id = fields.UUID()
    line_no = fields.Integer()
    facility_id = fields.UUID()
    kind = fields.String()
    account = fields.String()
    amount = fields.Integer(metadata={"description": "signed: debit positive, credit negative"})
    debit = fields.Method("get_debit")
    credit = fields.Method("get_credit")
    currency = fields.String()
    business_date = fields.Date()
    posted_at = fields.AwareDateTime()
    stream_id = fields.UUID(metadata={"description": "the causing event's aggregate"})
    version = fields.Integer(metadata={"description": "the causing event's version"})
    position = fields.Integer(metadata={"description": "the causing event's position"})
    booking_id = fields.UUID(allow_none=True)
    reverses = fields.UUID(allow_none=True)
    description = fields.String()

    def get_debit(self, line: dict[str, Any]) -> int:
        return max(int(line["amount"]), 0)

    def get_credit(self, line: dict[str, Any]) -> int:
        return max(-int(line["amount"]), 0)


class JournalPage(Schema):
    lines = fields.List(fields.Nested(JournalLine))
    next_cursor = fields.String(allow_none=True, metadata={"description": "null on the last page"})


class StatementLine(Schema):
    entry_id = fields.UUID()
    kind = fields.String()
    category = fields.String(metadata={"description": "charge, payment, refund, correction, ..."})
    business_date = fields.Date()
    posted_at = fields.AwareDateTime()
    description = fields.String()
    amount = fields.Integer(metadata={"description": "the change in what the guest owes"})
    reverses = fields.UUID(allow_none=True)


class Statement(Schema):
    booking_id = fields.UUID()
    reference = fields.String()
    facility_id = fields.UUID()
    currency = fields.String()
    status = fields.String()
    lines = fields.List(fields.Nested(StatementLine))
    charges = fields.Integer()
    payments = fields.Integer()
    refunds = fields.Integer()
    corrections = fields.Integer()
    balance_due = fields.Integer(metadata={"description": "negative: owed to the guest"})
    receivable = fields.Integer()
    refunds_payable = fields.Integer()


class RevenueDay(Schema):
    date = fields.Date()
    accounts = fields.Dict(keys=fields.String(), values=fields.Integer())
    revenue = fields.Integer(metadata={"description": "stay, fee and overstay revenue, net"})


class Revenue(Schema):
    facility_id = fields.UUID()
    currency = fields.String(allow_none=True)
    days = fields.List(fields.Nested(RevenueDay))


class BusinessDayAnswer(Schema):
    id = fields.UUID()
    facility_id = fields.UUID()
    business_date = fields.Date()
    version = fields.Integer()
    position = fields.Integer()


class TaxRateAnswer(Schema):
    id = fields.UUID()
    tax_rate_bp = fields.Integer()
    version = fields.Integer()
    position = fields.Integer()


class ReversalAnswer(Schema):
    id = fields.UUID()
    facility_id = fields.UUID()
    entry_id = fields.UUID()
    reason = fields.String()
    version = fields.Integer()
    position = fields.Integer()
