"""Writes a folded page of the occupancy projection, one statement per operation, in order."""

from __future__ import annotations

from typing import Any

import psycopg

from berth.projections.occupancy import Operation

Cursor = psycopg.Cursor[Any]

STATEMENTS = {
    "gate": "INSERT INTO occupancy_gates (gate_id, facility_id, name, direction)"
    " VALUES (%(gate_id)s, %(facility_id)s, %(name)s, %(direction)s)",
    "booking": "INSERT INTO occupancy_bookings (booking_id, facility_id, reference)"
    " VALUES (%(booking_id)s, %(facility_id)s, %(reference)s)",
    "arrived": "INSERT INTO occupancy_on_site"
    " (booking_id, facility_id, plate, gate_id, read_id, arrived_at)"
    " SELECT %(booking_id)s, facility_id, %(plate)s, %(gate_id)s, %(read_id)s, %(arrived_at)s"
    " FROM occupancy_bookings WHERE booking_id = %(booking_id)s"
    " ON CONFLICT (booking_id) DO UPDATE SET plate = EXCLUDED.plate,"
    " gate_id = EXCLUDED.gate_id, read_id = EXCLUDED.read_id, arrived_at = EXCLUDED.arrived_at",
    "departed": "DELETE FROM occupancy_on_site WHERE booking_id = %(booking_id)s",
    "overstay": "INSERT INTO occupancy_overstays (booking_id, facility_id, hours, amount, currency)"
    " SELECT %(booking_id)s, facility_id, %(hours)s, %(amount)s, %(currency)s"
    " FROM occupancy_bookings WHERE booking_id = %(booking_id)s"
    " ON CONFLICT (booking_id) DO UPDATE SET"
    " hours = occupancy_overstays.hours + EXCLUDED.hours,"
    " amount = occupancy_overstays.amount + EXCLUDED.amount",
    "read": "INSERT INTO occupancy_reads (read_id, read_key, facility_id, gate_id, direction,"
    " camera_id, plate, confidence, captured_at, open, reason, booking_id, position)"
    " VALUES (%(read_id)s, %(read_key)s, %(facility_id)s, %(gate_id)s, %(direction)s,"
    " %(camera_id)s, %(plate)s, %(confidence)s, %(captured_at)s, %(open)s, %(reason)s,"
    " %(booking_id)s, %(position)s)",
    "resolved": "UPDATE occupancy_reads SET resolved = true, booking_id = %(booking_id)s,"
    " resolution_note = %(note)s WHERE read_key = %(read_key)s",
}


def write(cur: Cursor, operations: list[Operation]) -> None:
    for operation in operations:
        cur.execute(STATEMENTS[operation.kind], operation.params, prepare=True)
