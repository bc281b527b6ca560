"""Read-model queries of the staff screen, beside the API's (`berth.adapters.read_models.queries`,
`gate_queries`, `ledger_queries`), which the screen uses for everything they answer.

Plain SQL over the projections' tables; every function takes a psycopg connection
first and returns plain dicts. Every list is bounded, and says when it was cut.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from berth.domain.plates import normalise_plate

Connection = psycopg.Connection[Any]
MAX_RESULTS = 50
MAX_FEED = 100


def facilities(conn: Connection) -> list[UUID]:
    """Facilities with a pool (what the screen can show), in a stable order."""
    rows = conn.execute(
        "SELECT DISTINCT facility_id FROM availability_pools ORDER BY facility_id LIMIT 1000"
    ).fetchall()
    return [row[0] for row in rows]


def pools(conn: Connection, *, facility_id: UUID) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT pool_id, name, capacity, currency, time_zone FROM availability_pools"
            " WHERE facility_id = %s ORDER BY name, pool_id",
            (facility_id,),
        ).fetchall()


def search_bookings(
    conn: Connection, *, text: str, facility_id: UUID | None = None, limit: int = MAX_RESULTS
) -> tuple[list[dict[str, Any]], bool]:
    """Bookings whose reference is `text`, that carry the plate `text`, or whose guest's
    name contains it; newest arrival first. The flag says more matched than `limit`."""
    wanted = text.strip()
    if not wanted:
        return [], False
    pattern = "%" + wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT * FROM bookings"
            " WHERE (%(facility)s::uuid IS NULL OR facility_id = %(facility)s)"
            " AND (upper(reference) = upper(%(text)s)"
            "      OR plates_normalised && ARRAY[%(plate)s]"
            "      OR (coalesce(guest->>'given_name', '') || ' ' || coalesce(guest->>'family_name',"
            "          '') || ' ' || coalesce(guest->>'name', '')) ILIKE %(pattern)s)"
            " ORDER BY arrival DESC, reference LIMIT %(limit)s",
            {
                "facility": facility_id,
                "text": wanted,
                "plate": normalise_plate(wanted),
                "pattern": pattern,
                "limit": limit + 1,
            },
        ).fetchall()
    return rows[:limit], len(rows) > limit


def recent_reads(
    conn: Connection, *, facility_id: UUID, limit: int = MAX_FEED
) -> list[dict[str, Any]]:
    """The facility's latest plate reads with their decisions, newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT r.read_id, r.gate_id, g.name AS gate, r.direction, r.camera_id, r.plate,"
            " r.confidence, r.captured_at, r.open, r.reason, r.booking_id, r.resolved,"
            " r.resolution_note, r.position, b.reference"
            " FROM occupancy_reads r LEFT JOIN occupancy_gates g USING (gate_id)"
            " LEFT JOIN occupancy_bookings b USING (booking_id)"
            " WHERE r.facility_id = %s ORDER BY r.position DESC LIMIT %s",
            (facility_id, limit),
        ).fetchall()


def read(conn: Connection, *, facility_id: UUID, read_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT read_id, gate_id, direction, plate, captured_at, open, reason, booking_id,"
            " resolved FROM occupancy_reads WHERE facility_id = %s AND read_id = %s",
            (facility_id, read_id),
        ).fetchone()


def in_house(
    conn: Connection, *, facility_id: UUID, night: date, limit: int = 5000
) -> tuple[list[dict[str, Any]], bool]:
    """Bookings with a night on `night` that the ledger recognises revenue for."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT booking_id, reference, arrival, departure, status, total, currency, guest,"
            " quantity, night_prices"
            " FROM bookings WHERE facility_id = %s AND arrival <= %s AND departure > %s"
            " AND status IN ('confirmed', 'checked_in', 'checked_out', 'no_show')"
            " ORDER BY reference LIMIT %s",
            (facility_id, night, night, limit + 1),
        ).fetchall()
    return rows[:limit], len(rows) > limit


def closed_days(conn: Connection, *, facility_id: UUID, limit: int = 60) -> list[date]:
    rows = conn.execute(
        "SELECT business_date FROM ledger_closed_days WHERE facility_id = %s"
        " ORDER BY business_date DESC LIMIT %s",
        (facility_id, limit),
    ).fetchall()
    return [row[0] for row in rows]


def gates(conn: Connection, *, facility_id: UUID) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT gate_id, name, direction FROM occupancy_gates WHERE facility_id = %s"
            " ORDER BY name, gate_id LIMIT 500",
            (facility_id,),
        ).fetchall()
