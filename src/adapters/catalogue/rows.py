"""Writes a folded page of the catalogue projection, one statement per operation, in order."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from berth.projections.catalogue import Operation

Cursor = psycopg.Cursor[Any]

_STAMP = "version = %(version)s, position = %(position)s, modified_at = %(at)s"
STATEMENTS = {
    "facility": "INSERT INTO catalogue_facilities"
    " (facility_id, name, time_zone, version, position, created_at, modified_at)"
    " VALUES (%(id)s, %(name)s, %(time_zone)s, %(version)s, %(position)s, %(at)s, %(at)s)",
    "facility_currency": f"UPDATE catalogue_facilities SET currency = %(currency)s, {_STAMP}"
    " WHERE facility_id = %(id)s",
    "pool": "INSERT INTO catalogue_pools (pool_id, facility_id, name, capacity, nightly_price,"
    " currency, time_zone, cancellation, version, position, created_at, modified_at)"
    " VALUES (%(id)s, %(facility_id)s, %(name)s, %(capacity)s, %(nightly_price)s, %(currency)s,"
    " %(time_zone)s, %(cancellation)s, %(version)s, %(position)s, %(at)s, %(at)s)",
    "pool_overstay": f"UPDATE catalogue_pools SET overstay_hourly = %(hourly)s, {_STAMP}"
    " WHERE pool_id = %(id)s",
    "pool_tax": f"UPDATE catalogue_pools SET tax_rate_bp = %(rate_bp)s, {_STAMP}"
    " WHERE pool_id = %(id)s",
    "facility_touched": f"UPDATE catalogue_facilities SET {_STAMP} WHERE facility_id = %(id)s",
    "pool_touched": f"UPDATE catalogue_pools SET {_STAMP} WHERE pool_id = %(id)s",
    "gate_touched": f"UPDATE catalogue_gates SET {_STAMP} WHERE gate_id = %(id)s",
    "camera_touched": f"UPDATE catalogue_cameras SET {_STAMP} WHERE camera_key = %(id)s",
    "gate": "INSERT INTO catalogue_gates (gate_id, facility_id, name, direction,"
    " early_grace_minutes, late_grace_minutes, passage_seconds, version, position, created_at,"
    " modified_at) VALUES (%(id)s, %(facility_id)s, %(name)s, %(direction)s,"
    " %(early_grace_minutes)s, %(late_grace_minutes)s, %(passage_seconds)s, %(version)s,"
    " %(position)s, %(at)s, %(at)s)",
    "camera": "INSERT INTO catalogue_cameras (facility_id, camera_id, camera_key, gate_id,"
    " version, position, created_at, modified_at) VALUES (%(facility_id)s, %(camera_id)s,"
    " %(id)s, %(gate_id)s, %(version)s, %(position)s, %(at)s, %(at)s)",
    "camera_moved": f"UPDATE catalogue_cameras SET gate_id = %(gate_id)s, {_STAMP}"
    " WHERE camera_key = %(id)s",
    "camera_rekeyed": "UPDATE catalogue_cameras SET previous_valid_until ="
    f" %(previous_valid_until)s, rekeyed_at = %(at)s, {_STAMP} WHERE camera_key = %(id)s",
}


def write(cur: Cursor, operations: list[Operation]) -> None:
    for operation in operations:
        params = operation.params
        if "cancellation" in params:
            params = params | {"cancellation": Jsonb(params["cancellation"])}
        cur.execute(STATEMENTS[operation.kind], params, prepare=True)
