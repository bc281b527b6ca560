"""Reading the notification log and committing a projection's page exactly once.

A page's read-model rows and the projection's new position are written in one
transaction. The position row is locked first and compared with the position
the page was read after: if another runner moved it, nothing is written, so a
page is never applied twice, whoever crashes or runs alongside.
"""

from __future__ import annotations

from collections.abc import Callable
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
    """Up to `limit` notifications after position `after` (and up to `until`), in order.

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
        rows = [Notification(n, o, v, t, bytes(s)) for n, o, v, t, s in cur]
    if not conn.autocommit:
        conn.commit()  # end the read transaction: the page is written in a transaction of its own
    return rows


def tracked_position(conn: Connection, projection: str) -> int:
    with conn.transaction():
        row = conn.execute(
            "SELECT position FROM projection_positions WHERE projection = %s", (projection,)
        ).fetchone()
    return int(row[0]) if row else 0


def commit_page(
    conn: Connection,
    *,
    projection: str,
    after: int,
    position: int,
    event_time: datetime | None,
    write: Callable[[Cursor], None],
) -> None:
    """Write a page's rows (by `write`) and move `projection` from `after` to `position`.

    Raises PositionMoved, writing nothing, if the stored position is not `after`.
    """
    with conn.transaction(), conn.cursor() as cur:
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
        write(cur)
        cur.execute(
            "UPDATE projection_positions"
            " SET position = %s, event_time = COALESCE(%s, event_time), updated_at = now()"
            " WHERE projection = %s",
            (position, event_time, projection),
        )
        # Delivered at commit, to whoever waits in wait_for_position.
        cur.execute("SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, f"{projection}:{position}"))


def event_mapper() -> Mapper[UUID]:
    """The command application's mapper (its transcodings), without opening the store.

    Built from the application itself so the two can never disagree; the in-memory
    persistence module only stops it connecting. Any cipher or compressor would
    come from the same environment variables the application reads.
    """
    app = Reservations({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=utc_now)
    return app.mapper
