"""Reading the notification log and committing a projection's page exactly once.

A page's read-model rows and the projection's new position are written in one
transaction. The position row is locked first and compared with the position
the page was read after: if another runner moved it, nothing is written, so a
page is never applied twice, whoever crashes or runs alongside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper

from berth.adapters.postgres.event_wakeups import POSITIONS_CHANNEL
from berth.adapters.postgres.eventstore import utc_now
from berth.domain.application import Reservations

Connection = psycopg.Connection[Any]
Cursor = psycopg.Cursor[Any]
LAST_POSITION = 2**63 - 1  # notification ids are bigint


class PositionMoved(Exception):
    """The projection's stored position is not the one its page was read after."""

    def __init__(self, *, projection: str, expected: int, actual: int) -> None:
        super().__init__(f"{projection} is at {actual}, not {expected}: page not applied")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Notification:
    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


def read_page(
    conn: Connection, *, after: int, limit: int, until: int | None = None
) -> list[Notification]:
    """`select_page`, then the read transaction ends: for followers that only read."""
    rows = select_page(conn, after=after, limit=limit, until=until)
    if not conn.autocommit:
        conn.commit()
    return rows


def select_page(
    conn: Connection, *, after: int, limit: int, until: int | None = None
) -> list[Notification]:
    """Up to `limit` notifications after position `after` (and up to `until`), in order,
    read in the caller's transaction (a runner's page: read, written and moved in one).

    The library inserts events under a table lock held to commit, so positions
    become visible in order and a reader never passes over one committed later.
    """
    with conn.cursor() as cur:
        cur.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM berth_events WHERE notification_id > %s AND notification_id <= %s"
            " ORDER BY notification_id LIMIT %s",
            (after, LAST_POSITION if until is None else until, limit),
            prepare=True,
        )
        return [Notification(n, o, v, t, bytes(s)) for n, o, v, t, s in cur]


def tracked_position(conn: Connection, projection: str) -> int:
    with conn.transaction():
        row = conn.execute(
            "SELECT position FROM projection_positions WHERE projection = %s", (projection,)
        ).fetchone()
    return int(row[0]) if row else 0


# The position row's lock is taken by this update and held to commit, so a runner
# that read the same page waits here and then finds the position moved. The NOTIFY
# is delivered at commit, to whoever waits in wait_for_position.
_MOVE = (
    "WITH moved AS (UPDATE projection_positions"
    " SET position = %(position)s, event_time = COALESCE(%(event_time)s, event_time),"
    " updated_at = now() WHERE projection = %(projection)s AND position = %(after)s"
    " RETURNING 1)"
    " SELECT pg_notify(%(channel)s, %(payload)s) FROM moved"
)


def move_position(
    cur: Cursor, *, projection: str, after: int, position: int, event_time: datetime | None
) -> None:
    """Move `projection` from `after` to `position` in the cursor's transaction.

    One statement when the stored position is `after`; raises PositionMoved if not.
    """
    params = {
        "position": position, "event_time": event_time, "projection": projection,
        "after": after, "channel": POSITIONS_CHANNEL, "payload": f"{projection}:{position}",
    }  # fmt: skip
    cur.execute(_MOVE, params, prepare=True)
    if cur.rowcount == 1:
        return
    # Not at `after`, or no row yet: a projection's first page creates it (at 0).
    cur.execute(
        "INSERT INTO projection_positions (projection) VALUES (%s)"
        " ON CONFLICT (projection) DO NOTHING",
        (projection,),
    )
    cur.execute(
        "SELECT position FROM projection_positions WHERE projection = %s FOR UPDATE",
        (projection,),
    )
    row = cur.fetchone()
    assert row is not None
    if int(row[0]) != after:
        raise PositionMoved(projection=projection, expected=after, actual=int(row[0]))
    cur.execute(_MOVE, params, prepare=True)


def event_mapper() -> Mapper[UUID]:
    """The command application's mapper (its transcodings), without opening the store.

    Built from the application itself so the two can never disagree; the in-memory
    persistence module only stops it connecting. Any cipher or compressor would
    come from the same environment variables the application reads.
    """
    app = Reservations({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=utc_now)
    return app.mapper
