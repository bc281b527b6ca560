"""Read-model rows as the screen shows them: the balance due, the guest's name, the plates."""

from __future__ import annotations

from typing import Any

from berth.domain import booking


def guest_name(guest: dict[str, Any]) -> str:
    name = " ".join(p for p in (guest.get("given_name"), guest.get("family_name")) if p)
    return name or str(guest.get("name", ""))


def booking_row(row: dict[str, Any]) -> dict[str, Any]:
    charges = booking.charged(
        status=row["status"],
        total=row["total"],
        overstay_charged=row.get("overstay_charged", 0),
        cancellation_fee=row["cancellation_fee"],
    )
    return row | {
        "guest_name": guest_name(row["guest"]),
        "plates_text": ", ".join(row["plates"]),
        "balance_due": booking.balance_due(
            charges=charges, paid=row["paid"], refunded=row["refunded"]
        ),
    }
