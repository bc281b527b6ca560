"""Bodies of the command endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from berth.adapters.inputs import fields as bounded
from berth.http.schemas.base import Strict

# The field types live in berth.adapters.inputs.fields, shared with Kafka and the CLI.
strict_int = bounded.whole
text = bounded.text


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
    capacity = bounded.capacity(required=True)
    nightly_price = bounded.money(required=True)
    currency = currency()
    cancellation = fields.Nested(CancellationPolicy, load_default=None)


class ChangeCapacity(Strict):
    first_night = bounded.Day(required=True)
    last_night = bounded.Day(required=True, metadata={"description": "inclusive"})
    capacity = bounded.capacity(required=True)


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
    arrival = bounded.Day(required=True)
    departure = bounded.Day(required=True)
    quantity = bounded.quantity(load_default=1)
    guest = fields.Nested(Guest, required=True)
    plates = plates()
    hold_minutes = strict_int(1, 24 * 60, load_default=15)


class AmendBooking(Strict):
    arrival = bounded.Day()
    departure = bounded.Day()
    quantity = bounded.quantity()
    guest = fields.Nested(Guest)
    plates = plates()

    @validates_schema
    def something_changes(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("an amendment changes at least one field", "_schema")


class CancelBooking(Strict):
    reason = bounded.free_text(500, load_default="")


class RecordPayment(Strict):
    amount = bounded.money(minimum=1, required=True)
    currency = currency()
    method = text(40, required=True)
    payment_id = bounded.identifier(
        100, metadata={"description": "the provider's id; generated if absent"}
    )


class RequestRefund(Strict):
    amount = bounded.money(minimum=1, required=True)
    currency = currency()
    reason = bounded.free_text(500, load_default="")
    refund_id = bounded.identifier(100, metadata={"description": "generated if absent"})


class SettleRefund(Strict):
    succeeded = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = bounded.free_text(500, load_default="")
