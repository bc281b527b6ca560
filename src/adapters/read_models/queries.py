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
from berth.domain.plates import normalise_plate
from berth.projections import PROJECTION_NAMES, search_text

# Channel the projection runners NOTIFY after each commit (payload "name:position").
MAX_NIGHTS = 366
MAX_PAGE = 500
_POLL_SECONDS = 0.005

Connection = psycopg.Connection[Any]


# The range is repeated on each join so the primary keys' (pool_id, night) range is
# scanned. Without it, the generic plan PostgreSQL gives the statement once psycopg has
# prepared it read every allocation the pool ever had: 127 ms for a month of a pool
# with 130,000 allocations, against 9 ms with it (the custom plan: 6 ms).
AVAILABILITY = """
SELECT n.night::date AS night,
       COALESCE(an.capacity, p.capacity) AS capacity,
       COALESCE(SUM(a.quantity) FILTER (WHERE a.expires_at > %(now)s), 0) AS held,
       COALESCE(SUM(a.quantity) FILTER (WHERE a.expires_at IS NULL), 0) AS confirmed
  FROM availability_pools p
 CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') n(night)
  LEFT JOIN availability_nights an
         ON an.pool_id = p.pool_id AND an.night = n.night::date
        AND an.night BETWEEN %(first)s AND %(last)s
  LEFT JOIN availability_allocations a
         ON a.pool_id = p.pool_id AND a.night = n.night::date
        AND a.night BETWEEN %(first)s AND %(last)s
 WHERE p.pool_id = %(pool)s
 GROUP BY n.night, an.capacity, p.capacity
 ORDER BY n.night
"""


class RangeTooLong(ValueError):
    """An availability range longer than MAX_NIGHTS nights."""


def send_availability(
    conn: Connection, *, pool_id: UUID, first_night: date, last_night: date, now: datetime
) -> psycopg.Cursor[Any]:
    """The statement of capacity, held, confirmed per night, `first_night` to `last_night`,
    sent: in a pipeline (`conn.pipeline()`), in one round trip with the statements sent
    beside it. `nights_of` reads its rows; no rows when the pool is unknown."""
    nights = (last_night - first_night).days + 1
    if nights > MAX_NIGHTS:
        raise RangeTooLong(f"at most {MAX_NIGHTS} nights at a time, {nights} asked")
    return conn.execute(
        AVAILABILITY,
        {"pool": pool_id, "first": first_night, "last": last_night, "now": now},
    )


def nights_of(sent: psycopg.Cursor[Any]) -> list[dict[str, Any]]:
    """`send_availability`'s rows: capacity, held, confirmed and remaining per night."""
    return [
        {
            "night": night,
            "capacity": capacity,
            "held": held,
            "confirmed": confirmed,
            "remaining": max(capacity - held - confirmed, 0),
        }
        for night, capacity, held, confirmed in sent.fetchall()
    ]


def availability(
    conn: Connection, *, pool_id: UUID, first_night: date, last_night: date, now: datetime
) -> list[dict[str, Any]] | None:
    """Capacity, held, confirmed and remaining per night, `first_night` to `last_night`.

    None when the pool is unknown to the read model.
    """
    with send_availability(
        conn, pool_id=pool_id, first_night=first_night, last_night=last_night, now=now
    ) as sent:
        nights = nights_of(sent)
    if not nights and not _pool_known(conn, pool_id):
        return None
    return nights


def _pool_known(conn: Connection, pool_id: UUID) -> bool:
    found = conn.execute("SELECT 1 FROM availability_pools WHERE pool_id = %s", (pool_id,))
    return found.fetchone() is not None


def booking(conn: Connection, booking_id: UUID) -> dict[str, Any] | None:
    """The booking's read-model row (every column, with its `version` and `position`)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM bookings WHERE booking_id = %s", (booking_id,))
        return cur.fetchone()


# Orders of GET /bookings: the columns a page is sorted and cut by (booking_id breaks ties).
ORDERS: dict[str, tuple[str, bool]] = {
    "position": ("position", False),
    "arrival": ("arrival", False),
    "-arrival": ("arrival", True),
    "created": ("created_at", False),
    "-created": ("created_at", True),
}
MAX_NAME_WORDS = 8
# Letters Crockford's base 32 reads as digits: a reference read out over the phone still matches.
_REFERENCE_READS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class EmptySearch(ValueError):
    """A search term with nothing left to match once normalised (a plate of separators)."""


def normalise_reference(reference: str) -> str:
    return reference.strip().replace("-", "").replace(" ", "").upper().translate(_REFERENCE_READS)


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_filters(
    *,
    reference: str | None,
    plate: str | None,
    guest: str | None,
    email: str | None,
    stay_from: date | None,
    stay_to: date | None,
) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if reference is not None:
        found.append(("reference = %s", normalise_reference(reference)))
    if plate is not None:
        normalised = normalise_plate(plate)
        if not normalised:
            raise EmptySearch(f"the plate {plate!r} has no letters or digits")
        found.append(("plates_normalised @> ARRAY[%s]::text[]", normalised))
    if guest is not None:
        words = search_text.fold(guest).split()
        if not words or len(words) > MAX_NAME_WORDS:
            raise EmptySearch(f"a guest search is 1 to {MAX_NAME_WORDS} words")
        found += [("guest_folded LIKE %s", _like(word)) for word in words]
    if email is not None:
        found.append(("email_folded = %s", search_text.fold(email)))
    if stay_from is not None:
        found.append(("departure > %s", stay_from))  # a night on or after stay_from
    if stay_to is not None:
        found.append(("arrival <= %s", stay_to))  # a night on or before stay_to
    return found


def list_bookings(
    conn: Connection,
    *,
    facility_id: UUID | None = None,
    status: str | None = None,
    arrival: date | None = None,
    channel: str | None = None,
    modified_since: datetime | None = None,
    pool_id: UUID | None = None,
    reference: str | None = None,
    plate: str | None = None,
    guest: str | None = None,
    email: str | None = None,
    stay_from: date | None = None,
    stay_to: date | None = None,
    order: str = "position",
    after: Any = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], Any]:
    """Bookings matching every given filter, in `order`, and the key to continue after.

    In `position` order (the default) the key is the last row's position (None on
    the last page). Position is that of a booking's latest event, so the listing
    is a change feed: a booking changed while a client pages through moves to the
    end and is seen again, never missed. In the other orders the key is the last
    row's (arrival or created_at, booking_id), so pages neither skip nor repeat.
    `modified_since` is inclusive. A stay range keeps the bookings with a night
    from `stay_from` to `stay_to`; `reference` ignores case and separators, `plate`
    is normalised like the gates do, `guest` matches every word of it within the
    guest's name and `email` the whole address, both case- and accent-insensitive.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}, got {limit}")
    column, descending = ORDERS[order]
    filters: list[sql.Composable] = []
    params: list[Any] = []
    for name, operator, value in (
        ("facility_id", "=", facility_id),
        ("status", "=", status),
        ("arrival", "=", arrival),
        ("channel", "=", channel),
        ("modified_at", ">=", modified_since),
        ("pool_id", "=", pool_id),
    ):
        if value is not None:
            filters.append(sql.SQL("{} {} %s").format(sql.Identifier(name), sql.SQL(operator)))
            params.append(value)
    searched = _search_filters(
        reference=reference, plate=plate, guest=guest, email=email,
        stay_from=stay_from, stay_to=stay_to,
    )  # fmt: skip
    for condition, value in searched:
        filters.append(sql.SQL(condition))  # fixed text from _search_filters, never input
        params.append(value)
    direction = sql.SQL("DESC" if descending else "ASC")
    if order == "position":
        sort = sql.SQL("position {}").format(direction)
        if after is not None:
            filters.append(sql.SQL("position > %s"))
            params.append(after)
    else:
        sort = sql.SQL("{} {}, booking_id {}").format(sql.Identifier(column), direction, direction)
        if after is not None:
            filters.append(
                sql.SQL("({}, booking_id) {} (%s, %s)").format(
                    sql.Identifier(column), sql.SQL("<" if descending else ">")
                )
            )
            params += list(after)
    where = sql.SQL(" AND ").join(filters) if filters else sql.SQL("TRUE")
    query = sql.SQL("SELECT * FROM bookings WHERE {} ORDER BY {} LIMIT %s").format(where, sort)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, [*params, limit + 1])
        rows = cur.fetchall()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    if order == "position":
        return rows, int(last["position"])
    return rows, (last[column], last["booking_id"])


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
