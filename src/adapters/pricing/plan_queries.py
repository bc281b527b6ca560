"""What a pool sells at, from the availability read model: its terms and its rate plans.

Plain SQL over `availability_pools` and `availability_rate_plans`; rows as dicts.
A quote's reads (the pool's terms, the plan, the units left each night) are one
statement, `quote_reads`: one round trip instead of three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

Connection = psycopg.Connection[Any]

_PLAN_COLUMNS = (
    "plan_id, pool_id, facility_id, code, name, currency, terms, retired, version, position,"
    " created_at, modified_at"
)


def send_pool_terms(conn: Connection, pool_id: UUID) -> psycopg.Cursor[dict[str, Any]]:
    """`pool_terms`' statement, sent (in a pipeline, beside others); its row: fetchone()."""
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT pool_id, facility_id, nightly_price, currency, time_zone, cancellation,"
        " tax_rate_bp FROM availability_pools WHERE pool_id = %s",
        (pool_id,),
    )


def pool_terms(conn: Connection, pool_id: UUID) -> dict[str, Any] | None:
    """The pool's price, currency, time zone, cancellation terms and tax rate; None if unknown."""
    with send_pool_terms(conn, pool_id) as sent:
        return sent.fetchone()


def send_rate_plans(
    conn: Connection, pool_id: UUID, *, include_retired: bool = True
) -> psycopg.Cursor[dict[str, Any]]:
    """`rate_plans`' statement, sent (in a pipeline, beside others); its rows: fetchall()."""
    return conn.cursor(row_factory=dict_row).execute(
        f"SELECT {_PLAN_COLUMNS} FROM availability_rate_plans"
        " WHERE pool_id = %s AND (%s OR NOT retired) ORDER BY code",
        (pool_id, include_retired),
    )


def rate_plans(
    conn: Connection, pool_id: UUID, *, include_retired: bool = True
) -> list[dict[str, Any]]:
    """The pool's rate plans, by code (at most a pool's few dozen: no page needed)."""
    with send_rate_plans(conn, pool_id, include_retired=include_retired) as sent:
        return sent.fetchall()


def rate_plan(conn: Connection, pool_id: UUID, code: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {_PLAN_COLUMNS} FROM availability_rate_plans WHERE pool_id = %s AND code = %s",
            (pool_id, code),
        )
        return cur.fetchone()


@dataclass(frozen=True)
class QuoteReads:
    """What a quote reads: the pool's terms (as `pool_terms`), the plan, the units left."""

    pool: dict[str, Any]
    plan: dict[str, Any] | None  # its `terms` and `retired`; None: the pool has no such plan
    remaining: list[int]  # units left each night, first to last, as `/availability` counts


# The nights are counted as berth.adapters.read_models.queries.availability counts them:
# capacity (the night's own, else the pool's) less live holds and confirmed allocations.
# The nights' range is repeated on each join so the primary keys' (pool_id, night) range
# is scanned: the stay's rows, not every night the pool was ever booked.
_QUOTE_READS = """
SELECT p.pool_id, p.facility_id, p.nightly_price, p.currency, p.time_zone, p.cancellation,
       p.tax_rate_bp, rp.plan_id, rp.terms, rp.retired, left_each.remaining
  FROM availability_pools p
  LEFT JOIN availability_rate_plans rp ON rp.pool_id = p.pool_id AND rp.code = %(code)s
 CROSS JOIN LATERAL (
       SELECT array_agg(GREATEST(n.capacity - n.held - n.confirmed, 0) ORDER BY n.night)
              AS remaining
         FROM (SELECT d.night,
                      COALESCE(an.capacity, p.capacity) AS capacity,
                      COALESCE(SUM(a.quantity) FILTER (WHERE a.expires_at > %(now)s), 0) AS held,
                      COALESCE(SUM(a.quantity) FILTER (WHERE a.expires_at IS NULL), 0)
                        AS confirmed
                 FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') d(night)
                 LEFT JOIN availability_nights an
                        ON an.pool_id = p.pool_id AND an.night = d.night::date
                       AND an.night BETWEEN %(first)s AND %(last)s
                 LEFT JOIN availability_allocations a
                        ON a.pool_id = p.pool_id AND a.night = d.night::date
                       AND a.night BETWEEN %(first)s AND %(last)s
                GROUP BY d.night, an.capacity) n
       ) left_each
 WHERE p.pool_id = %(pool)s
"""


def quote_reads(
    conn: Connection,
    pool_id: UUID,
    code: str,
    *,
    first_night: date,
    last_night: date,
    now: datetime,
) -> QuoteReads | None:
    """The pool, its plan `code` and each night's units left, in one statement; None if no pool.

    The caller bounds the nights (a stay is at most MAX_NIGHTS).
    """
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            _QUOTE_READS,
            {"pool": pool_id, "code": code, "first": first_night, "last": last_night, "now": now},
        )
        row = cur.fetchone()
    if row is None:
        return None
    plan_id, terms, retired = row.pop("plan_id"), row.pop("terms"), row.pop("retired")
    remaining = row.pop("remaining")
    plan = None if plan_id is None else {"terms": terms, "retired": retired}
    return QuoteReads(pool=row, plan=plan, remaining=[int(units) for units in remaining or ()])
