"""Bodies of the command endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from berth.http.schemas.base import Strict

INT32 = 2**31 - 1
INT63 = 2**63 - 1


def strict_int(minimum: int, maximum: int, **kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=minimum, max=maximum), **kwargs)


def text(maximum: int, *, minimum: int = 1, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=minimum, max=maximum), **kwargs)


def currency() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code such as EUR"),
    )


class RegisterFacility(Strict):
    name = text(200, required=True)
    time_zone = text(64, required=True, metadata={"description": "IANA, e.g. Europe/London"})


class CancellationPolicy(Strict):
    free_until_hours = strict_int(0, 24 * 366, load_default=48)
    fee_percent = strict_int(0, 100, load_default=100)


class AddPool(Strict):
    name = text(200, required=True)
    capacity = strict_int(0, 1_000_000, required=True)
    nightly_price = strict_int(0, INT63, required=True, metadata={"description": "minor units"})
    currency = currency()
    cancellation = fields.Nested(CancellationPolicy, load_default=None)


class ChangeCapacity(Strict):
    first_night = fields.Date(required=True)
    last_night = fields.Date(required=True, metadata={"description": "inclusive"})
    capacity = strict_int(0, 1_000_000, required=True)


class Guest(Strict):
    """The guest: `given_name` and `family_name`, or (the first shape, still accepted) `name`."""

    given_name = text(200, metadata={"description": "required unless `name` is given"})
    family_name = text(
        200, minimum=0, metadata={"description": "empty for a guest with one name; default empty"}
    )
    name = text(
        200,
        metadata={
            "description": "the full name, as before given and family names: split at its last "
            "space (`Augusta Ada King`: given `Augusta Ada`, family `King`; one word is a given "
            "name). Not together with `given_name` or `family_name`"
        },
    )
    email = fields.Email(validate=validate.Length(max=254))
    phone = text(40)

    @validates_schema
    def named_one_way(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "name" in data and ({"given_name", "family_name"} & data.keys()):
            raise ValidationError("give `name` or `given_name` and `family_name`, not both", "name")
        if "name" not in data and "given_name" not in data:
            raise ValidationError("the guest needs a `given_name` (or a `name`)", "given_name")


def plates() -> fields.List[str]:
    return fields.List(text(16), validate=validate.Length(max=10))


class HoldBooking(Strict):
    pool_id = fields.UUID(required=True)
    arrival = fields.Date(required=True)
    departure = fields.Date(required=True)
    quantity = strict_int(1, 1000, load_default=1)
    guest = fields.Nested(Guest, required=True)
    plates = plates()
    hold_minutes = strict_int(1, 24 * 60, load_default=15)


class AmendBooking(Strict):
    arrival = fields.Date()
    departure = fields.Date()
    quantity = strict_int(1, 1000)
    guest = fields.Nested(Guest)
    plates = plates()

    @validates_schema
    def something_changes(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("an amendment changes at least one field", "_schema")


class CancelBooking(Strict):
    reason = text(500, minimum=0, load_default="")


class RecordPayment(Strict):
    amount = strict_int(1, INT63, required=True, metadata={"description": "minor units"})
    currency = currency()
    method = text(40, required=True)
    payment_id = text(100, metadata={"description": "the provider's id; generated if absent"})


class RequestRefund(Strict):
    amount = strict_int(1, INT63, required=True, metadata={"description": "minor units"})
    currency = currency()
    reason = text(500, minimum=0, load_default="")
    refund_id = text(100, metadata={"description": "generated if absent"})


class SettleRefund(Strict):
    succeeded = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = text(500, minimum=0, load_default="")
