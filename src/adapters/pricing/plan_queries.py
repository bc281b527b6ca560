"""What a pool sells at, from the availability read model: its terms and its rate plans.

Plain SQL over `availability_pools` and `availability_rate_plans`; rows as dicts.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

Connection = psycopg.Connection[Any]

_PLAN_COLUMNS = (
    "plan_id, pool_id, facility_id, code, name, currency, terms, retired, version, position,"
    " created_at, modified_at"
)


def pool_terms(conn: Connection, pool_id: UUID) -> dict[str, Any] | None:
    """The pool's price, currency, time zone, cancellation terms and tax rate; None if unknown."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT pool_id, facility_id, nightly_price, currency, time_zone, cancellation,"
            " tax_rate_bp FROM availability_pools WHERE pool_id = %s",
            (pool_id,),
        )
        return cur.fetchone()


def rate_plans(
    conn: Connection, pool_id: UUID, *, include_retired: bool = True
) -> list[dict[str, Any]]:
    """The pool's rate plans, by code (at most a pool's few dozen: no page needed)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {_PLAN_COLUMNS} FROM availability_rate_plans"
            " WHERE pool_id = %s AND (%s OR NOT retired) ORDER BY code",
            (pool_id, include_retired),
        )
        return cur.fetchall()


def rate_plan(conn: Connection, pool_id: UUID, code: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {_PLAN_COLUMNS} FROM availability_rate_plans WHERE pool_id = %s AND code = %s",
            (pool_id, code),
        )
        return cur.fetchone()
