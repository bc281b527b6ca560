"""The screen's forms, loaded by marshmallow with the bounded field types of every inlet.

Form fields arrive as text, so numbers are read from strings here (the JSON
schemas of the API take numbers strictly); the bounds are the same
(`berth.adapters.inputs.fields`, `berth.domain.bounds`). An amount is typed as money
("12.50") and loaded as minor units. The CSRF token and the page to return to
are the screen's, not the command's, and are left out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load, validate

from berth.adapters.inputs import fields as bounded
from berth.domain import bounds

PAYMENT_METHODS = ("card", "cash", "bank_transfer")


class Form(Schema):
    class Meta:
        unknown = EXCLUDE  # csrf_token, next: read by the screen itself


class Versioned(Form):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class Cancel(Versioned):
    reason = bounded.free_text(500, load_default="")


class Payment(Versioned):
    amount = fields.Decimal(
        required=True,
        places=2,
        validate=validate.Range(min=Decimal("0.01"), max=Decimal(bounds.MAX_MONEY) / 100),
    )
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))

    @post_load
    def minor_units(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["amount"] = int(data["amount"] * 100)
        return data


class Amend(Versioned):
    """New dates and plates (comma-separated in the form), as the API's AmendBooking bounds them."""

    arrival = bounded.Day(required=True)
    departure = bounded.Day(required=True)
    plates = fields.List(bounded.text(16), validate=validate.Length(max=10), load_default=[])

    @pre_load
    def split_plates(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        text = data.get("plates", "")
        if isinstance(text, str):
            data = dict(data, plates=[p.strip() for p in text.split(",") if p.strip()])
        return data


class Resolve(Form):
    booking_id = fields.UUID(load_default=None, allow_none=True)
    note = bounded.free_text(500, load_default="")


class OpenBarrier(Form):
    reason = bounded.text(500, required=True)
    plate = bounded.free_text(20, load_default="")


class CloseDay(Form):
    business_date = bounded.Day(required=True)


class Search(Form):
    q = bounded.free_text(100, load_default="")


def load(schema: type[Schema], form: dict[str, str]) -> dict[str, Any]:
    """The form's values, or marshmallow's ValidationError (a 400 page naming the fields)."""
    values = {name: value for name, value in form.items() if value != "" or name == "q"}
    loaded: dict[str, Any] = schema().load(values)
    return loaded
