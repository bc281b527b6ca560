"""Where a time cut falls in the ledger's events: `as_of` means on /ledger what it does on /audit.

An auditor's `as_of=t` is the prefix of the store up to, not including, the
first ledger event stamped after t (`berth.adapters.audit.audit_history`). The live
ledger answers the same cut from `ledger_time_marks`: the ledger projection
records each event whose timestamp is later than every ledger event before it
(the running maximum rises there). The first event stamped after t is always
such an event, so it is the first mark stamped after t, and the cut is every
position before it. Timestamps mostly rise, so there is about one mark per
ledger event: a bigint and a timestamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from eventsourcing.domain import AggregateEvent

Cursor = psycopg.Cursor[Any]
Connection = psycopg.Connection[Any]

# A page's own rises, kept where they also pass every mark already stored.
_INSERT = (
    "INSERT INTO ledger_time_marks (position, at)"
    " SELECT p, a FROM unnest(%s::bigint[], %s::timestamptz[]) AS page(p, a)"
    " WHERE a > COALESCE((SELECT max(at) FROM ledger_time_marks), '-infinity')"
)


def write(cur: Cursor, page: Sequence[tuple[int, AggregateEvent]]) -> None:
    """Record the events of a ledger page at which the running maximum timestamp rises."""
    positions: list[int] = []
    times: list[datetime] = []
    for position, event in page:
        if not times or event.timestamp > times[-1]:
            positions.append(position)
            times.append(event.timestamp)
    if positions:
        cur.execute(_INSERT, (positions, times), prepare=True)


def last_position_before(conn: Connection, as_of: datetime) -> int | None:
    """The last position within the cut `as_of` (None: no ledger event is stamped after it)."""
    row = conn.execute(
        "SELECT position FROM ledger_time_marks WHERE at > %s ORDER BY at LIMIT 1", (as_of,)
    ).fetchone()
    return None if row is None else int(row[0]) - 1
