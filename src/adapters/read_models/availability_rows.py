"""Writes a folded page of the availability projection: one statement per kind of change.

Allocations are keyed by inventory id; each statement joins `availability_nights`
on it to find the pool and night. Nights are written first, so a night opened in
the same page is found.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from berth.projections.availability import Allocate, AvailabilityChanges, Firm, PlanChange, Release

Cursor = psycopg.Cursor[Any]


# The allocations a page firms or releases, found by their whole primary key. The keys
# are put together in a subquery that OFFSET 0 keeps whole: joined with unnest() and
# availability_nights in one flat join, PostgreSQL looked each allocation up by
# (pool_id, night) alone and matched the booking after, reading every allocation of a
# hot night for each one (47 ms for 50 allocations when a night held about a thousand
# bookings, in the generic and the custom plan alike).
_KEYS = (
    "(SELECT n.pool_id, n.night, v.booking_id"
    " FROM unnest(%s::uuid[], %s::uuid[]) v(inventory_id, booking_id)"
    " JOIN availability_nights n ON n.inventory_id = v.inventory_id OFFSET 0) k"
    " WHERE a.pool_id = k.pool_id AND a.night = k.night AND a.booking_id = k.booking_id"
)
FIRM = "UPDATE availability_allocations a SET expires_at = NULL FROM " + _KEYS
RELEASE = "DELETE FROM availability_allocations a USING " + _KEYS


def write(cur: Cursor, changes: AvailabilityChanges) -> None:
    if changes.pools:
        cur.executemany(
            "INSERT INTO availability_pools (pool_id, facility_id, name, capacity,"
            " nightly_price, currency, time_zone, cancellation)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (pool_id) DO UPDATE SET facility_id = EXCLUDED.facility_id,"
            " name = EXCLUDED.name, capacity = EXCLUDED.capacity,"
            " nightly_price = EXCLUDED.nightly_price, currency = EXCLUDED.currency,"
            " time_zone = EXCLUDED.time_zone, cancellation = EXCLUDED.cancellation",
            [
                (
                    p.pool_id,
                    p.facility_id,
                    p.name,
                    p.capacity,
                    p.nightly_price,
                    p.currency,
                    p.time_zone,
                    Jsonb(p.cancellation),
                )
                for p in changes.pools.values()
            ],
        )
    if changes.tax_rates:
        cur.execute(
            "UPDATE availability_pools p SET tax_rate_bp = v.rate"
            " FROM unnest(%s::uuid[], %s::int[]) v(pool_id, rate) WHERE p.pool_id = v.pool_id",
            (list(changes.tax_rates), list(changes.tax_rates.values())),
        )
    _write_plans(cur, list(changes.plans.values()))
    if changes.nights:
        nights = list(changes.nights.values())
        cur.execute(
            "INSERT INTO availability_nights (inventory_id, pool_id, night, capacity)"
            " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::date[], %s::int[])"
            " ON CONFLICT (pool_id, night) DO UPDATE"
            " SET capacity = EXCLUDED.capacity, inventory_id = EXCLUDED.inventory_id",
            (
                [n.inventory_id for n in nights],
                [n.pool_id for n in nights],
                [n.night for n in nights],
                [n.capacity for n in nights],
            ),
        )
    if changes.capacities:
        cur.execute(
            "UPDATE availability_nights n SET capacity = v.capacity"
            " FROM unnest(%s::uuid[], %s::int[]) v(inventory_id, capacity)"
            " WHERE n.inventory_id = v.inventory_id",
            (list(changes.capacities), list(changes.capacities.values())),
        )
    _write_allocations(cur, changes)


def _write_allocations(cur: Cursor, changes: AvailabilityChanges) -> None:
    allocate: list[tuple[Any, ...]] = []
    firm: list[tuple[Any, ...]] = []
    release: list[tuple[Any, ...]] = []
    for (inventory_id, booking_id), change in changes.allocations.items():
        if isinstance(change, Allocate):
            allocate.append((inventory_id, booking_id, change.quantity, change.expires_at))
        elif isinstance(change, Firm):
            firm.append((inventory_id, booking_id))
        elif isinstance(change, Release):
            release.append((inventory_id, booking_id))
    if allocate:
        inventory_ids, booking_ids, quantities, expiries = zip(*allocate, strict=True)
        cur.execute(
            "INSERT INTO availability_allocations"
            " (pool_id, night, booking_id, quantity, expires_at)"
            " SELECT n.pool_id, n.night, v.booking_id, v.quantity, v.expires_at"
            " FROM unnest(%s::uuid[], %s::uuid[], %s::int[], %s::timestamptz[])"
            "   v(inventory_id, booking_id, quantity, expires_at)"
            " JOIN availability_nights n ON n.inventory_id = v.inventory_id"
            " ON CONFLICT (pool_id, night, booking_id) DO UPDATE"
            " SET quantity = EXCLUDED.quantity, expires_at = EXCLUDED.expires_at",
            (list(inventory_ids), list(booking_ids), list(quantities), list(expiries)),
        )
    if firm:
        inventory_ids, booking_ids = zip(*firm, strict=True)
        cur.execute(FIRM, (list(inventory_ids), list(booking_ids)))
    if release:
        inventory_ids, booking_ids = zip(*release, strict=True)
        cur.execute(RELEASE, (list(inventory_ids), list(booking_ids)))


_NEW_PLAN = (
    "INSERT INTO availability_rate_plans (plan_id, pool_id, facility_id, code, name, currency,"
    " terms, retired, version, position, created_at, modified_at)"
    " VALUES (%(plan_id)s, %(pool_id)s, %(facility_id)s, %(code)s, %(name)s, %(currency)s,"
    " %(terms)s, %(retired)s, %(version)s, %(position)s, %(created_at)s, %(modified_at)s)"
)
# Columns not set by the page keep their value (NULL means "unchanged").
_CHANGED_PLAN = (
    "UPDATE availability_rate_plans SET name = COALESCE(%(name)s, name),"
    " terms = COALESCE(%(terms)s, terms), retired = COALESCE(%(retired)s, retired),"
    " version = %(version)s, position = %(position)s, modified_at = %(modified_at)s"
    " WHERE plan_id = %(plan_id)s"
)


def _write_plans(cur: Cursor, plans: list[PlanChange]) -> None:
    new = [p for p in plans if p.created is not None]
    changed = [p for p in plans if p.created is None]
    if new:
        cur.executemany(_NEW_PLAN, [_plan_params(p) | (p.created or {}) for p in new])
    if changed:
        cur.executemany(_CHANGED_PLAN, [_plan_params(p) for p in changed])


def _plan_params(plan: PlanChange) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "name": plan.name,
        "terms": None if plan.terms is None else Jsonb(plan.terms),
        "retired": plan.retired,
        "version": plan.version,
        "position": plan.position,
        "modified_at": plan.modified_at,
    }
