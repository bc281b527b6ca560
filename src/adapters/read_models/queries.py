"""Read-model queries of the booking API: plain SQL over the projections' tables.

Every function takes a psycopg connection first and returns plain dicts: dates as
`date`, times as aware `datetime`, ids as `UUID`; the HTTP layer serialises them.
Held capacity is counted at query time (`expires_at > now`), so an expired hold
stops counting at once, before any worker has expired the booking.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from berth.adapters.postgres.event_wakeups import POSITIONS_CHANNEL
from berth.projections import PROJECTION_NAMES

# Channel the projection runners NOTIFY after each commit (payload "name:position").
MAX_NIGHTS = 366
MAX_PAGE = 500
_POLL_SECONDS = 0.005

Connection = psycopg.Connection[Any]


class RangeTooLong(ValueError):
    """An availability range longer than MAX_NIGHTS nights."""


def availability(
    conn: Connection, *, pool_id: UUID, first_night: date, last_night: date, now: datetime
) -> list[dict[str, Any]] | None:
    """Capacity, held, confirmed and remaining per night, `first_night` to `last_night`.

    None when the pool is unknown to the read model.
    """
    nights = (last_night - first_night).days + 1
    if nights > MAX_NIGHTS:
        raise RangeTooLong(f"at most {MAX_NIGHTS} nights at a time, {nights} asked")
    rows = conn.execute(
        """
        SELECT n.night::date AS night,
               COALESCE(an.capacity, p.capacity) AS capacity,
               COALESCE(SUM(a.quantity) FILTER (WHERE a.expires_at > %(now)s), 0) AS held,
               COALESCE(SUM(a.quantity) FILTER (WHERE a.expires_at IS NULL), 0) AS confirmed
          FROM availability_pools p
         CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') n(night)
          LEFT JOIN availability_nights an
                 ON an.pool_id = p.pool_id AND an.night = n.night::date
          LEFT JOIN availability_allocations a
                 ON a.pool_id = p.pool_id AND a.night = n.night::date
         WHERE p.pool_id = %(pool)s
         GROUP BY n.night, an.capacity, p.capacity
         ORDER BY n.night
        """,
        {"pool": pool_id, "first": first_night, "last": last_night, "now": now},
    ).fetchall()
    if not rows and not _pool_known(conn, pool_id):
        return None
    return [
        {
            "night": night,
            "capacity": capacity,
            "held": held,
            "confirmed": confirmed,
            "remaining": max(capacity - held - confirmed, 0),
        }
        for night, capacity, held, confirmed in rows
    ]


def _pool_known(conn: Connection, pool_id: UUID) -> bool:
    found = conn.execute("SELECT 1 FROM availability_pools WHERE pool_id = %s", (pool_id,))
    return found.fetchone() is not None


def booking(conn: Connection, booking_id: UUID) -> dict[str, Any] | None:
    """The booking's read-model row (every column, with its `version` and `position`)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM bookings WHERE booking_id = %s", (booking_id,))
        return cur.fetchone()


def list_bookings(
    conn: Connection,
    *,
    facility_id: UUID | None = None,
    status: str | None = None,
    arrival: date | None = None,
    channel: str | None = None,
    modified_since: datetime | None = None,
    after: int | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """Bookings matching every given filter, in `position` order, and the next cursor.

    The cursor is the last row's position (None on the last page). Position is that
    of a booking's latest event, so the listing is a change feed: a booking changed
    while a client pages through moves to the end and is seen again, never missed.
    `modified_since` is inclusive.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}, got {limit}")
    filters: list[sql.Composable] = []
    params: list[Any] = []
    for column, operator, value in (
        ("facility_id", "=", facility_id),
        ("status", "=", status),
        ("arrival", "=", arrival),
        ("channel", "=", channel),
        ("modified_at", ">=", modified_since),
        ("position", ">", after),
    ):
        if value is not None:
            filters.append(sql.SQL("{} {} %s").format(sql.Identifier(column), sql.SQL(operator)))
            params.append(value)
    where = sql.SQL(" AND ").join(filters) if filters else sql.SQL("TRUE")
    query = sql.SQL("SELECT * FROM bookings WHERE {} ORDER BY position LIMIT %s").format(where)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, [*params, limit + 1])
        rows = cur.fetchall()
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, int(rows[-1]["position"])
    return rows, None


def arrivals(
    conn: Connection, *, facility_id: UUID, day: date, channel: str | None = None
) -> list[dict[str, Any]]:
    """Bookings arriving on `day`: confirmed, or already checked in."""
    return _day_list(conn, "arrival", facility_id, day, channel)


def departures(
    conn: Connection, *, facility_id: UUID, day: date, channel: str | None = None
) -> list[dict[str, Any]]:
    """Bookings departing on `day`: checked in, or confirmed and not yet arrived."""
    return _day_list(conn, "departure", facility_id, day, channel)


def _day_list(
    conn: Connection, column: str, facility_id: UUID, day: date, channel: str | None
) -> list[dict[str, Any]]:
    query = sql.SQL(
        "SELECT * FROM bookings WHERE facility_id = %s AND {} = %s"
        " AND status IN ('confirmed', 'checked_in')"
        " AND (%s::text IS NULL OR channel = %s)"
        " ORDER BY reference"
    ).format(sql.Identifier(column))
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (facility_id, day, channel, channel))
        return cur.fetchall()


def projection_status(
    conn: Connection, *, max_lag_seconds: float | None = None
) -> list[dict[str, Any]]:
    """Per projection: its position, the store's head, how far behind it is, and its state.

    `state` is `failed` when its runner recorded an event it cannot apply
    (`failure` says which and why), `lagging` when its oldest unapplied event is
    older than `max_lag_seconds` (if given), `ok` otherwise.
    """
    head_row = conn.execute(
        "SELECT COALESCE(MAX(notification_id), 0), now() FROM berth_events"
    ).fetchone()
    assert head_row is not None
    head, db_now = int(head_row[0]), head_row[1]
    stored = {
        name: (int(position), updated_at)
        for name, position, updated_at in conn.execute(
            "SELECT projection, position, updated_at FROM projection_positions"
        )
    }
    failures = {
        row[0]: {
            "position": int(row[1]),
            "error_class": row[2],
            "error_message": row[3],
            "first_seen": row[4],
            "last_seen": row[5],
            "attempts": int(row[6]),
        }
        for row in conn.execute(
            "SELECT projection, position, error_class, error_message, first_seen, last_seen,"
            " attempts FROM projection_failures"
        )
    }
    status = []
    for name in sorted(set(PROJECTION_NAMES) | set(stored)):
        position, updated_at = stored.get(name, (0, None))
        lag_seconds = 0.0
        if position < head:
            oldest = _oldest_unapplied_time(conn, position) or updated_at or db_now
            lag_seconds = max((db_now - oldest).total_seconds(), 0.0)
        failure = failures.get(name)
        state = "ok"
        if failure is not None:
            state = "failed"
        elif max_lag_seconds is not None and lag_seconds > max_lag_seconds:
            state = "lagging"
        status.append(
            {
                "projection": name,
                "position": position,
                "head": head,
                "lag_events": head - position,
                "lag_seconds": lag_seconds,
                "state": state,
                "failure": failure,
            }
        )
    return status


def _oldest_unapplied_time(conn: Connection, position: int) -> datetime | None:
    """The timestamp of the first event after `position`, read from its stored state.

    The event table keeps no time column; the state is the JSON the library's
    transcoder wrote (`{"timestamp": {"_type_": "datetime_iso", "_data_": ...}}`).
    None if it cannot be read so (a cipher or compressor configured).
    """
    row = conn.execute(
        "SELECT state FROM berth_events WHERE notification_id > %s"
        " ORDER BY notification_id LIMIT 1",
        (position,),
    ).fetchone()
    if row is None:
        return None
    try:
        stamp = json.loads(bytes(row[0]))["timestamp"]["_data_"]
        moment = datetime.fromisoformat(stamp)
    except (ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo else None


def positions(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    """The tracked position of each named projection (0 if it has never run)."""
    found = dict(
        conn.execute(
            "SELECT projection, position FROM projection_positions WHERE projection = ANY(%s)",
            (list(names),),
        ).fetchall()
    )
    return {name: int(found.get(name, 0)) for name in names}


def wait_for_position(
    conn: Connection, *, projections: Sequence[str], min_position: int, timeout: float
) -> bool:
    """Block until every named projection has reached `min_position`, at most `timeout` s.

    On an autocommit connection it LISTENs for the runners' notifications (and
    UNLISTENs before returning); otherwise it polls every few milliseconds, without
    touching a transaction the caller has open.
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    names = list(projections)

    def reached() -> bool:
        return min(positions(conn, names).values(), default=min_position) >= min_position

    if not conn.autocommit:
        return _poll(conn, reached, deadline)
    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL)))
    try:
        while True:
            if reached():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            for _ in conn.notifies(timeout=remaining, stop_after=1):
                pass
    finally:
        conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL)))


def _poll(conn: Connection, reached: Any, deadline: float) -> bool:
    own_transaction = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    try:
        while True:
            if reached():
                return True
            if time.monotonic() >= deadline:
                return False
            if own_transaction:
                conn.rollback()  # do not sit idle in a transaction this poll opened
            time.sleep(_POLL_SECONDS)
    finally:
        if own_transaction:
            conn.rollback()


def expired_holds(conn: Connection, *, now: datetime, limit: int = 500) -> list[UUID]:
    """Bookings still held in the read model whose hold ran out by `now`, oldest first."""
    rows = conn.execute(
        "SELECT booking_id FROM bookings WHERE status = 'held' AND hold_expires_at <= %s"
        " ORDER BY hold_expires_at LIMIT %s",
        (now, limit),
    ).fetchall()
    return [row[0] for row in rows]
