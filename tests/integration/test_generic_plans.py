"""The projections' statements that join a page's arrays with a big read-model table keep
their index lookups in the generic plan PostgreSQL gives a prepared statement.

psycopg prepares a statement after five executions, and PostgreSQL may then plan it
once for any parameters. Each test fills a table with skewed rows (a hot night, a
busy facility), analyzes it, and reads the generic plan of the statement.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import sql

from berth.adapters.read_models import availability_rows, ledger_rows, queries

HOT_POOL = UUID(int=1)
FACILITY = UUID(int=2)  # the busy one


def _generic_plan(
    conn: psycopg.Connection[Any], statement: str, params: Sequence[Any] | dict[str, Any]
) -> Any:
    """The JSON plan of `statement` prepared, as PostgreSQL plans it for any parameters."""
    if isinstance(params, dict):  # %(name)s: one number per name, as psycopg sends them
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
        prepared = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", statement)
        params = [params[name] for name in names]
    else:
        numbers = itertools.count(1)
        prepared = re.sub("%s", lambda _: f"${next(numbers)}", statement)
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        conn.execute(sql.SQL("PREPARE generic AS {}").format(sql.SQL(prepared)))
        arguments = sql.SQL(", ").join(sql.Literal(p) for p in params)
        row = conn.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE generic ({})").format(arguments)
        ).fetchone()
        conn.execute("DEALLOCATE generic")
    assert row is not None
    return row[0][0]["Plan"]


def _scans(plan: Any, table: str) -> Iterator[dict[str, Any]]:
    """The nodes of the plan that read `table` (not the one that writes it)."""
    if plan.get("Relation Name") == table and plan["Node Type"] != "ModifyTable":
        yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child, table)


def test_firming_and_releasing_look_each_allocation_up_by_its_whole_key(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        # 20 pools of 200 nights; 60,000 allocations, a third of them on ten hot nights.
        conn.execute(
            "INSERT INTO availability_nights (pool_id, night, capacity, inventory_id)"
            " SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(p), 12, '0'))::uuid,"
            "  date '2030-01-01' + d, 50, gen_random_uuid()"
            " FROM generate_series(1, 20) p, generate_series(0, 199) d"
        )
        conn.execute(
            "INSERT INTO availability_allocations (pool_id, night, booking_id, quantity)"
            " SELECT n.pool_id, n.night, gen_random_uuid(), 1 FROM availability_nights n,"
            "  generate_series(1, CASE WHEN n.pool_id = %s AND n.night < '2030-01-11'"
            "   THEN 2000 ELSE 10 END)",
            (HOT_POOL,),
        )
        conn.execute("ANALYZE availability_nights, availability_allocations")
        keys = conn.execute(
            "SELECT n.inventory_id, a.booking_id FROM availability_allocations a"
            " JOIN availability_nights n USING (pool_id, night) WHERE a.pool_id = %s LIMIT 20",
            (HOT_POOL,),
        ).fetchall()
        params = ([k[0] for k in keys], [k[1] for k in keys])
        for statement in (availability_rows.FIRM, availability_rows.RELEASE):
            scans = list(_scans(_generic_plan(conn, statement, params), "availability_allocations"))
            assert scans, statement
            for scan in scans:
                assert scan["Node Type"] == "Index Scan", scan
                assert "booking_id = " in scan["Index Cond"], scan  # not a filter after it


def test_the_ledger_finds_a_closed_days_stays_through_the_index(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        # 40,000 bookings over two years at ten facilities, nine in ten of them at one.
        conn.execute(
            "INSERT INTO ledger_bookings (booking_id, facility_id, pool_id, reference, status,"
            "  arrival, departure, total, currency, time_zone, balances)"
            " SELECT gen_random_uuid(), ('00000000-0000-0000-0000-'"
            "  || lpad(to_hex(CASE WHEN i % 10 = 0 THEN 3 + i % 9 ELSE 2 END), 12, '0'))::uuid,"
            "  gen_random_uuid(), 'R' || i, 'checked_out', date '2030-01-01' + i % 730,"
            "  date '2030-01-01' + i % 730 + 1 + i % 5, 1000, 'EUR', 'UTC', '{}'"
            " FROM generate_series(1, 40000) i"
        )
        conn.execute("ANALYZE ledger_bookings")
        booking_ids = [uuid4()]
        params = (booking_ids, [FACILITY], [date(2031, 6, 1)], ["confirmed", "checked_out"])
        plan = _generic_plan(conn, ledger_rows.BOOKINGS, params)
        scans = list(_scans(plan, "ledger_bookings"))
        assert len(scans) == 2, plan
        assert all("Seq Scan" not in scan["Node Type"] for scan in scans), scans


def test_a_pools_availability_reads_the_allocations_of_its_range_only(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        # One pool, 30 allocations a night for 400 nights.
        conn.execute(
            "INSERT INTO availability_pools (pool_id, facility_id, name, capacity,"
            " nightly_price, currency, time_zone)"
            " VALUES (%s, %s, 'Long stay', 50, 1500, 'EUR', 'UTC')",
            (HOT_POOL, FACILITY),
        )
        conn.execute(
            "INSERT INTO availability_allocations (pool_id, night, booking_id, quantity)"
            " SELECT %s, date '2030-01-01' + d, gen_random_uuid(), 1"
            " FROM generate_series(0, 399) d, generate_series(1, 30)",
            (HOT_POOL,),
        )
        conn.execute("ANALYZE availability_pools, availability_allocations")
        params = {
            "pool": HOT_POOL,
            "first": date(2030, 3, 1),
            "last": date(2030, 3, 31),
            "now": datetime(2030, 1, 1, tzinfo=UTC),
        }
        plan = _generic_plan(conn, queries.AVAILABILITY, params)
        scans = list(_scans(plan, "availability_allocations"))
        assert scans, plan
        for scan in scans:  # an index scan's condition, or the bitmap index scan's under it
            conditions = [scan.get("Index Cond", "")] + [
                child.get("Index Cond", "") for child in scan.get("Plans", [])
            ]
            assert any("night >=" in c for c in conditions), scan
