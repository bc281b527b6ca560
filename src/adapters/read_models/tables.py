"""The read-model tables each projection owns, and the columns that key their rows.

A projection's writer (`*_rows.py`) writes these tables and no others; a rebuild
sets them up aside and swaps or compares them (`shadow_tables`), and the
projection tests snapshot them in key order. A table added to a writer must be
added here too: a rebuild runs its writer with only these tables in reach, so a
forgotten one fails the rebuild instead of being written in place.
"""

from __future__ import annotations

from berth.projections import availability, bookings, ledger, occupancy

TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    availability.NAME: {
        "availability_pools": ("pool_id",),
        "availability_nights": ("pool_id", "night"),
        "availability_allocations": ("pool_id", "night", "booking_id"),
    },
    bookings.NAME: {"bookings": ("booking_id",)},
    occupancy.NAME: {
        "occupancy_gates": ("gate_id",),
        "occupancy_bookings": ("booking_id",),
        "occupancy_on_site": ("booking_id",),
        "occupancy_reads": ("facility_id", "read_id"),
        "occupancy_overstays": ("booking_id",),
    },
    ledger.NAME: {
        "ledger_journal": ("entry_id", "line_no"),
        "ledger_bookings": ("booking_id",),
        "ledger_pools": ("pool_id",),
        "ledger_facilities": ("facility_id",),
        "ledger_closed_days": ("facility_id", "business_date"),
    },
}
