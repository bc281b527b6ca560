"""Writes a folded page of the availability projection: one statement per kind of change.

Allocations are keyed by inventory id; each statement joins `availability_nights`
on it to find the pool and night. Nights are written first, so a night opened in
the same page is found.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Any

import psycopg

from berth.projections.availability import Allocate, AvailabilityChanges, Firm, Release

Cursor = psycopg.Cursor[Any]


def write(cur: Cursor, changes: AvailabilityChanges) -> None:
    if changes.pools:
        cur.executemany(
            "INSERT INTO availability_pools"
            " (pool_id, facility_id, name, capacity, nightly_price, currency, time_zone)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (pool_id) DO UPDATE SET facility_id = EXCLUDED.facility_id,"
            " name = EXCLUDED.name, capacity = EXCLUDED.capacity,"
            " nightly_price = EXCLUDED.nightly_price, currency = EXCLUDED.currency,"
            " time_zone = EXCLUDED.time_zone",
            [astuple(pool) for pool in changes.pools.values()],
        )
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
        cur.execute(
            "UPDATE availability_allocations a SET expires_at = NULL"
            " FROM unnest(%s::uuid[], %s::uuid[]) v(inventory_id, booking_id)"
            " JOIN availability_nights n ON n.inventory_id = v.inventory_id"
            " WHERE a.pool_id = n.pool_id AND a.night = n.night AND a.booking_id = v.booking_id",
            (list(inventory_ids), list(booking_ids)),
        )
    if release:
        inventory_ids, booking_ids = zip(*release, strict=True)
        cur.execute(
            "DELETE FROM availability_allocations a"
            " USING unnest(%s::uuid[], %s::uuid[]) v(inventory_id, booking_id)"
            " JOIN availability_nights n ON n.inventory_id = v.inventory_id"
            " WHERE a.pool_id = n.pool_id AND a.night = n.night AND a.booking_id = v.booking_id",
            (list(inventory_ids), list(booking_ids)),
        )
