"""How the API shows a booking and a pool's nights: the one representation every command,
query and webhook uses.

Below berth.http so that the webhook worker dumps a booking exactly as the API answers
it without importing the HTTP layer (`berth.http.schemas.answers` re-exports these).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import Schema, fields, post_dump, pre_dump

from berth.domain import booking
from berth.domain.guest import upcast_guest_v1_v2


class Answer(Schema):
    """A command's answer carries the resource's version and its last event's position."""

    version = fields.Integer(required=True)
    position = fields.Integer(metadata={"description": "pass as `min_position` to read this write"})


class NightPrice(Schema):
    night = fields.Date(required=True)
    price = fields.Integer(required=True, metadata={"description": "one unit, minor units"})


class PendingRefund(Schema):
    refund_id = fields.String()
    amount = fields.Integer()


class GuestRecord(Schema):
    given_name = fields.String()
    family_name = fields.String(metadata={"description": "empty for a guest with one name"})
    name = fields.Method(
        "get_name",
        metadata={
            "description": "given and family name joined by a space, for clients of the first "
            "guest shape; read-only, derived"
        },
    )
    email = fields.String()
    phone = fields.String()

    @pre_dump
    def upcast(self, guest: dict[str, str], **kwargs: Any) -> dict[str, Any]:
        """Rows a bookings read model wrote before version 2 carry `name`: shown split too."""
        return upcast_guest_v1_v2(dict(guest))

    def get_name(self, guest: dict[str, str]) -> str:
        return " ".join(p for p in (guest.get("given_name"), guest.get("family_name")) if p)


class UtcDateTime(fields.AwareDateTime):
    """An aware time shown in UTC, whatever time zone the database session answered in."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime):
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Booking(Answer):
    """A booking, the same from every command's answer and every query.

    Dumped from the bookings read model's row, or from the aggregate through
    `berth.projections.bookings.row_of`, which makes the same row.
    `hold_expires_at` is shown only while the booking is held,
    `cancellation_fee` only once it is cancelled.
    """

    id = fields.UUID(attribute="booking_id", required=True)
    reference = fields.String(required=True)
    facility_id = fields.UUID(required=True)
    pool_id = fields.UUID(required=True)
    channel = fields.String(required=True)
    status = fields.String(required=True)
    arrival = fields.Date(required=True)
    departure = fields.Date(required=True)
    nights = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    guest = fields.Nested(GuestRecord, required=True)
    plates = fields.List(fields.String(), required=True)
    hold_expires_at = UtcDateTime(metadata={"description": "only while the booking is held"})
    currency = fields.String(required=True)
    nightly_price = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "the stay's price"})
    rate_plan = fields.String(
        required=True,
        metadata={"description": "the plan it was sold under; `default`: the pool's own price"},
    )
    night_prices = fields.List(
        fields.Nested(NightPrice),
        required=True,
        metadata={
            "description": "the price of each night for one unit, as agreed when it was held "
            "(or amended); total = sum of prices x quantity"
        },
    )
    overstay_charged = fields.Integer(required=True)
    cancellation_fee = fields.Integer(metadata={"description": "only once cancelled"})
    charges = fields.Integer(
        required=True,
        metadata={
            "description": "charged so far: nothing while held or once expired, the total and "
            "any overstay from confirmation on, the fee once cancelled (overstays always)"
        },
    )
    paid = fields.Integer(required=True)
    refunded = fields.Integer(required=True, metadata={"description": "refunds paid out"})
    pending_refunds = fields.List(fields.Nested(PendingRefund), required=True)
    balance_due = fields.Integer(
        required=True,
        metadata={
            "description": "charges - paid + refunded, as on the ledger statement; negative: "
            "owed to the guest"
        },
    )
    created_at = UtcDateTime(required=True)
    modified_at = UtcDateTime(required=True)
    position = fields.Integer(
        required=True,
        metadata={
            "description": "the position of the booking's last event; pass as `min_position` "
            "to read this write"
        },
    )

    @pre_dump
    def derive(self, row: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        charges = booking.charged(
            status=row["status"],
            total=row["total"],
            overstay_charged=row["overstay_charged"],
            cancellation_fee=row["cancellation_fee"],
        )
        nights = (row["departure"] - row["arrival"]).days
        prices = row.get("night_prices")
        if prices is None or len(prices) != nights:
            # Held or amended before plans existed: the nightly price every night.
            prices = [row["nightly_price"]] * nights
        return dict(row) | {
            "nights": nights,
            "rate_plan": row.get("rate_plan") or "default",
            "night_prices": [
                {"night": row["arrival"] + timedelta(days=n), "price": price}
                for n, price in enumerate(prices)
            ],
            "charges": charges,
            "balance_due": booking.balance_due(
                charges=charges, paid=row["paid"], refunded=row["refunded"]
            ),
            "pending_refunds": [
                {"refund_id": k, "amount": v} for k, v in sorted(row["pending_refunds"].items())
            ],
        }

    @post_dump
    def only_where_they_apply(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["status"] != booking.Status.HELD:
            data.pop("hold_expires_at", None)
        if data["status"] != booking.Status.CANCELLED:
            data.pop("cancellation_fee", None)
        return data


class Night(Schema):
    night = fields.Date()
    capacity = fields.Integer()
    held = fields.Integer()
    confirmed = fields.Integer()
    remaining = fields.Integer()


class Availability(Schema):
    pool_id = fields.UUID()
    nights = fields.List(fields.Nested(Night))
