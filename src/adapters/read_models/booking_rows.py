"""Writes a folded page of the bookings projection: new rows in one statement, then updates."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from berth.projections.bookings import CHANGEABLE, BookingChange

Cursor = psycopg.Cursor[Any]

COLUMNS = (
    "booking_id", "reference", "facility_id", "pool_id", "channel", "status", "arrival",
    "departure", "quantity", "guest", "plates", "hold_expires_at", "currency", "nightly_price",
    "total", "cancellation_fee", "paid", "refunded", "overstay_charged", "pending_refunds",
    "version", "position", "created_at", "modified_at",
)  # fmt: skip
_JSON = frozenset({"guest", "plates", "pending_refunds"})

_INSERT = "INSERT INTO bookings ({}) VALUES ({})".format(
    ", ".join(COLUMNS), ", ".join(["%s"] * len(COLUMNS))
)
_TYPES = {"status": "text", "arrival": "date", "departure": "date", "quantity": "int",
          "guest": "jsonb", "plates": "jsonb", "total": "bigint",
          "cancellation_fee": "bigint"}  # fmt: skip
# Columns not set by the page keep their value (NULL means "unchanged": none is nullable).
_UPDATE = (
    "UPDATE bookings SET "
    + ", ".join(f"{c} = COALESCE(%({c})s::{_TYPES[c]}, {c})" for c in CHANGEABLE)
    + ", paid = paid + %(paid)s, refunded = refunded + %(refunded)s,"
    " overstay_charged = overstay_charged + %(overstay_charged)s,"
    " pending_refunds = (pending_refunds || %(refunds_requested)s) - %(refunds_settled)s::text[],"
    " version = %(version)s, position = %(position)s, modified_at = %(modified_at)s"
    " WHERE booking_id = %(booking_id)s"
)


def _value(column: str, value: Any) -> Any:
    return Jsonb(value) if column in _JSON and value is not None else value


def write(cur: Cursor, changes: dict[UUID, BookingChange]) -> None:
    new = [change.row() for change in changes.values() if change.created is not None]
    if new:
        cur.executemany(_INSERT, [[_value(c, row[c]) for c in COLUMNS] for row in new])
    updates = [
        {c: _value(c, change.sets.get(c)) for c in CHANGEABLE}
        | {
            "paid": change.paid,
            "refunded": change.refunded,
            "overstay_charged": change.overstay_charged,
            "refunds_requested": Jsonb(change.refunds_requested),
            "refunds_settled": sorted(change.refunds_settled),
            "version": change.version,
            "position": change.position,
            "modified_at": change.modified_at,
            "booking_id": change.booking_id,
        }
        for change in changes.values()
        if change.created is None
    ]
    if updates:
        cur.executemany(_UPDATE, updates)
