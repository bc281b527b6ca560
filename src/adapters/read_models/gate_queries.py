"""Read-model queries for gates: bookings by plate, occupancy, unmatched reads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from berth.domain.plates import normalise_plate

Connection = psycopg.Connection[Any]

# Bookings a vehicle could be arriving or leaving on (the decision checks each).
_ACTIVE = ["confirmed", "checked_in", "checked_out", "held", "cancelled", "no_show"]

# The bookings of a plate that matter to a read at `captured_at`, whatever their number:
# those whose stay (widened by a margin for the time zone and the grace) overlaps the
# capture day, those checked in (an overstay's stay lies in the past), and the nearest
# stay before and after (for the deny reason: too early, stay ended). The plate's rows
# are found once through the GIN index on the normalised plates (0040): a plate has
# few bookings next to a facility's, so the stay is then checked on those rows only.
_CARRYING = """
WITH plate AS MATERIALIZED (
    SELECT booking_id, arrival, departure, status FROM bookings
     WHERE facility_id = %(facility)s AND plates_normalised && %(plates)s
       AND status = ANY(%(active)s)
)
SELECT booking_id FROM (
    (SELECT booking_id, arrival FROM plate
      WHERE arrival <= %(high)s AND departure >= %(low)s)
    UNION
    (SELECT booking_id, arrival FROM plate WHERE status = 'checked_in')
    UNION
    (SELECT booking_id, arrival FROM plate WHERE arrival > %(high)s
      ORDER BY arrival LIMIT 1)
    UNION
    (SELECT booking_id, arrival FROM plate WHERE departure < %(low)s
      ORDER BY departure DESC LIMIT 1)
) AS candidates ORDER BY arrival DESC, booking_id
"""


def bookings_carrying(
    conn: Connection,
    *,
    facility_id: UUID,
    plates: Sequence[str],
    captured_at: datetime,
    early_grace_minutes: int,
    late_grace_minutes: int,
) -> list[UUID]:
    """Ids of the facility's bookings that carry any of `plates` and may be the one a
    read at `captured_at` is for (the decision checks each exactly), newest arrival first.

    Dates of stay are local to the facility; the window is the capture's UTC day
    widened by two days (any time zone) and by the gate's grace periods.
    """
    wanted = sorted({normalise_plate(p) for p in plates if p.strip()})
    if not wanted:
        return []
    day = captured_at.astimezone(UTC).date()
    low = day - timedelta(days=2 + math.ceil(late_grace_minutes / (24 * 60)))
    high = day + timedelta(days=2 + math.ceil(early_grace_minutes / (24 * 60)))
    rows = conn.execute(
        _CARRYING,
        {"facility": facility_id, "plates": wanted, "active": _ACTIVE, "low": low, "high": high},
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


def facilities_with_read(conn: Connection, *, read_id: str) -> list[UUID]:
    """The facilities that have a read with this id (read ids are scoped per facility)."""
    rows = conn.execute(
        "SELECT facility_id FROM occupancy_reads WHERE read_id = %s ORDER BY facility_id LIMIT 2",
        (read_id,),
    ).fetchall()
    return [row[0] for row in rows]
