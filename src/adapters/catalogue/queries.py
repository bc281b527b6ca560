"""Catalogue read-model queries: facilities, pools, gates and cameras, a page at a time.

Lists are in id order (camera id within a facility) and cut by keyset: `after`
is the last key of the page before, so a page never skips or repeats a row,
whatever is added meanwhile. Each list fetches one row more than `limit` to
know whether another page follows. A facility filter that a caller may not
use is the HTTP layer's to refuse; here `facility_id` only narrows.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

Connection = psycopg.Connection[Any]
MAX_PAGE = 500

_TABLES = {
    "facilities": ("catalogue_facilities", "facility_id"),
    "pools": ("catalogue_pools", "pool_id"),
    "gates": ("catalogue_gates", "gate_id"),
    "cameras": ("catalogue_cameras", "camera_id"),
}


def item(conn: Connection, kind: str, key: UUID) -> dict[str, Any] | None:
    """The row of the facility, pool or gate `key`, or None."""
    table, column = _TABLES[kind]
    query = sql.SQL("SELECT * FROM {} WHERE {} = %s").format(
        sql.Identifier(table), sql.Identifier(column)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (key,))
        return cur.fetchone()


def camera(conn: Connection, *, facility_id: UUID, camera_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT * FROM catalogue_cameras WHERE facility_id = %s AND camera_id = %s",
            (facility_id, camera_id),
        )
        return cur.fetchone()


def page(
    conn: Connection,
    kind: str,
    *,
    facility_id: UUID | str | None = None,
    gate_id: UUID | None = None,
    after: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` rows of `kind` after the key `after`, and whether more follow."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}, got {limit}")
    table, column = _TABLES[kind]
    filters: list[sql.Composable] = []
    params: list[Any] = []
    if kind == "cameras" and facility_id is None:
        raise ValueError("cameras are listed per facility")
    if facility_id is not None:
        filters.append(sql.SQL("facility_id = %s::uuid"))
        params.append(str(facility_id))
    if gate_id is not None:
        filters.append(sql.SQL("gate_id = %s"))
        params.append(gate_id)
    if after is not None:
        cast = sql.SQL("text") if kind == "cameras" else sql.SQL("uuid")
        filters.append(sql.SQL("{} > %s::{}").format(sql.Identifier(column), cast))
        params.append(after)
    where = sql.SQL(" AND ").join(filters) if filters else sql.SQL("TRUE")
    query = sql.SQL("SELECT * FROM {} WHERE {} ORDER BY {} LIMIT %s").format(
        sql.Identifier(table), where, sql.Identifier(column)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, [*params, limit + 1])
        rows = cur.fetchall()
    return rows[:limit], len(rows) > limit
