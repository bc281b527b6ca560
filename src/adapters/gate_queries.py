"""Read-model queries for gates: bookings by plate, occupancy, unmatched reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from berth.domain.plates import normalise_plate

Connection = psycopg.Connection[Any]

# Bookings a vehicle could be arriving or leaving on (the decision checks each).
_ACTIVE = ["confirmed", "checked_in", "checked_out", "held", "cancelled", "no_show"]


def bookings_carrying(conn: Connection, *, facility_id: UUID, plates: Sequence[str]) -> list[UUID]:
    """Ids of the facility's bookings that carry any of `plates`, newest arrival first."""
    wanted = sorted({normalise_plate(p) for p in plates if p.strip()})
    if not wanted:
        return []
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE facility_id = %s AND plates_normalised && %s"
        " AND status = ANY(%s) ORDER BY arrival DESC LIMIT 20",
        (facility_id, wanted, _ACTIVE),
        prepare=True,
    ).fetchall()
    return [row[0] for row in rows]


def occupancy(conn: Connection, *, facility_id: UUID) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        vehicles = cur.execute(
            "SELECT s.booking_id, b.reference, s.plate, s.gate_id, s.read_id, s.arrived_at"
            " FROM occupancy_on_site s JOIN occupancy_bookings b USING (booking_id)"
            " WHERE s.facility_id = %s ORDER BY s.arrived_at",
            (facility_id,),
        ).fetchall()
        overstays = cur.execute(
            "SELECT o.booking_id, b.reference, o.hours, o.amount, o.currency"
            " FROM occupancy_overstays o JOIN occupancy_bookings b USING (booking_id)"
            " WHERE o.facility_id = %s ORDER BY o.booking_id",
            (facility_id,),
        ).fetchall()
        unmatched = cur.execute(
            "SELECT count(*) AS n FROM occupancy_reads"
            " WHERE facility_id = %s AND booking_id IS NULL AND NOT resolved",
            (facility_id,),
        ).fetchone()
    return {
        "facility_id": facility_id,
        "on_site": len(vehicles),
        "vehicles": vehicles,
        "overstays": overstays,
        "unmatched_reads": unmatched["n"] if unmatched else 0,
    }


def unmatched_reads(
    conn: Connection, *, facility_id: UUID, include_resolved: bool, limit: int = 200
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT read_id, gate_id, direction, camera_id, plate, confidence, captured_at,"
            " reason, resolved, booking_id, resolution_note FROM occupancy_reads"
            " WHERE facility_id = %s AND (booking_id IS NULL OR resolved)"
            " AND (%s OR NOT resolved) ORDER BY captured_at DESC LIMIT %s",
            (facility_id, include_resolved, limit),
        ).fetchall()
