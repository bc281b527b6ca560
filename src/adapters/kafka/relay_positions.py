"""Where each outbound relay is in the notification log: `relay_positions`, advanced after acks.

`advance` is a compare-and-set: it moves a relay from the position its batch was
read after to the batch's last position, and refuses (`RelayPositionMoved`) if
another instance moved it meanwhile. The standby lock keeps one instance
active; this keeps two from ever interleaving their bookkeeping regardless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

Connection = psycopg.Connection[Any]


class RelayPositionMoved(Exception):
    """The relay's stored position is not the one its batch was read after."""

    def __init__(self, *, relay: str, expected: int, actual: int) -> None:
        super().__init__(f"relay {relay} is at {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


def tracked_position(conn: Connection, relay: str) -> int:
    """The last position `relay` has published, 0 before its first batch."""
    with conn.transaction():
        row = conn.execute(
            "SELECT position FROM relay_positions WHERE relay = %s", (relay,)
        ).fetchone()
    return int(row[0]) if row else 0


def advance(
    conn: Connection, *, relay: str, after: int, position: int, event_time: datetime | None
) -> None:
    """Record that `relay` has published everything up to `position` (it was at `after`)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "INSERT INTO relay_positions (relay) VALUES (%s) ON CONFLICT (relay) DO NOTHING",
            (relay,),
        )
        cur.execute(
            "UPDATE relay_positions"
            " SET position = %s, event_time = COALESCE(%s, event_time), updated_at = now()"
            " WHERE relay = %s AND position = %s",
            (position, event_time, relay, after),
        )
        if cur.rowcount != 1:
            row = cur.execute(
                "SELECT position FROM relay_positions WHERE relay = %s", (relay,)
            ).fetchone()
            actual = int(row[0]) if row else 0
            raise RelayPositionMoved(relay=relay, expected=after, actual=actual)


def head(conn: Connection) -> int:
    """The position of the last event in the store, 0 when it is empty."""
    with conn.transaction():
        row = conn.execute("SELECT COALESCE(max(notification_id), 0) FROM berth_events").fetchone()
    return int(row[0]) if row else 0
