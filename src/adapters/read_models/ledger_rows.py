"""Writes a page of the ledger projection: load the state it needs, post, write it all back.

Runs inside the page's transaction (`ProjectionRunner.apply_page`), after the
projection's position row is locked (`projection_store.move_position`), so the
state read here is the state the previous page left and the entries are written
exactly once. A page loads its state in a handful of queries (entries to
reverse, bookings by id or in house on a closed day, pools, facilities, closed
days), posts every event in memory with the pure rules of
`berth.projections.ledger`, then writes the journal with COPY and the changed
state with one multi-row statement per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import AggregateEvent
from psycopg.types.json import Jsonb

from berth.adapters.as_of import time_marks
from berth.adapters.postgres.array_literals import date_array, int_array
from berth.domain.booking import Booking
from berth.domain.business_day import BusinessDay
from berth.domain.correction import EntryReversal
from berth.domain.facility import Facility
from berth.domain.pool import Pool
from berth.projections import ledger
from berth.projections.ledger_books import (
    Account,
    BookingBooks,
    Books,
    Entry,
    FacilityBooks,
    Line,
    PoolBooks,
)

Cursor = psycopg.Cursor[Any]
Page = Sequence[tuple[int, AggregateEvent]]

JOURNAL_COLUMNS = (
    "entry_id", "line_no", "facility_id", "kind", "account", "amount", "currency",
    "business_date", "posted_at", "stream_id", "version", "position", "seq", "booking_id",
    "reverses", "description",
)  # fmt: skip
BOOKING_COLUMNS = (
    "booking_id", "facility_id", "pool_id", "reference", "status", "arrival", "departure",
    "total", "currency", "time_zone", "balances", "quantity", "night_prices", "recognised",
)  # fmt: skip
# The arrays (nights, prices) travel as text literals, cast in the statement: unnest
# cannot take an array of arrays of different lengths.
_BOOKING_TYPES = ("uuid", "uuid", "uuid", "text", "text", "date", "date", "bigint", "text",
                  "text", "jsonb", "integer", "text", "text")  # fmt: skip
_SELECT_BOOKINGS = "SELECT " + ", ".join(f"b.{c}" for c in BOOKING_COLUMNS)
_RECOGNISING = [str(status) for status in ledger.RECOGNISING]
# The bookings of a list, and those in house on each closed day of a list (their
# facility's, in a recognising status). Each closed day looks its facility's stays up
# through the index of its own (a LATERAL subquery that OFFSET 0 keeps from being
# flattened into a join): as a join of unnest() with the table, the generic plan of the
# prepared statement was a hash join over a (parallel) sequential scan of every booking,
# 10 ms for a page that closed no day and 90 ms for one that did, at 200,000 bookings.
BOOKINGS = (
    f"{_SELECT_BOOKINGS} FROM ledger_bookings b WHERE b.booking_id = ANY(%s)"
    f" UNION {_SELECT_BOOKINGS} FROM unnest(%s::uuid[], %s::date[]) c(facility_id, day)"
    " CROSS JOIN LATERAL (SELECT * FROM ledger_bookings b WHERE b.facility_id = c.facility_id"
    "  AND b.arrival <= c.day AND b.departure > c.day AND b.status = ANY(%s) OFFSET 0) b"
)


def write(cur: Cursor, page: Page) -> None:
    if not page:
        return
    books = load(cur, page)
    entries: list[Entry] = []
    for position, event in page:
        entries += ledger.post(books, position, event)
    save(cur, books, entries)
    time_marks.write(cur, page)


# -- loading ---------------------------------------------------------------------


def load(cur: Cursor, page: Page) -> Books:
    """The books as far as the page's events need them."""
    books = Books()
    events = [event for _, event in page]
    booking_ids = {e.originator_id for e in events if type(e) in ledger.BOOKING_EVENTS} - {
        e.originator_id for e in events if isinstance(e, Booking.Held)
    }
    reversed_ids = [e.entry_id for e in events if isinstance(e, EntryReversal.Recorded)]
    for entry in _entries(cur, reversed_ids):
        books.entries[entry.entry_id] = entry
        booking_ids |= {line.booking_id for line in entry.lines if line.booking_id}
    closes = [(e.facility_id, e.business_date) for e in events if isinstance(e, BusinessDay.Closed)]
    for booking in _bookings(cur, booking_ids, closes):
        books.bookings[booking.booking_id] = booking

    held = [e for e in events if isinstance(e, Booking.Held)]
    pool_ids = {b.pool_id for b in books.bookings.values()} | {e.pool_id for e in held}
    pool_ids |= {e.originator_id for e in events if isinstance(e, Pool.TaxRateSet)}
    for pool in _pools(cur, pool_ids):
        books.pools[pool.pool_id] = pool
    facility_ids = {e.originator_id for e in events if isinstance(e, Facility.CurrencySet)}
    facility_ids |= {e.facility_id for e in events if isinstance(e, EntryReversal.Recorded)}
    for facility in _facilities(cur, facility_ids):
        books.facilities[facility.facility_id] = facility

    if any(isinstance(e, Booking.Confirmed | Booking.Amended) for e in events):
        arrivals = [b.arrival for b in books.bookings.values()]
        arrivals += [e.arrival for e in events if isinstance(e, Booking.Held | Booking.Amended)]
        facilities = {b.facility_id for b in books.bookings.values()}
        facilities |= {e.facility_id for e in held}
        for facility_id, day in _closed_days(cur, facilities, min(arrivals, default=None)):
            books.closed_days.setdefault(facility_id, set()).add(day)
    return books


def _entries(cur: Cursor, entry_ids: list[UUID]) -> list[Entry]:
    if not entry_ids:
        return []
    cur.execute(
        f"SELECT {', '.join(JOURNAL_COLUMNS)} FROM ledger_journal"
        " WHERE entry_id = ANY(%s) ORDER BY entry_id, line_no",
        (entry_ids,),
    )
    return entries_from_rows(cur.fetchall())


def entries_from_rows(rows: Iterable[Sequence[Any]]) -> list[Entry]:
    """Journal rows (in JOURNAL_COLUMNS order, an entry's lines together) as entries."""
    entries: list[Entry] = []
    lines: list[Line] = []
    first: Sequence[Any] | None = None
    for row in [*rows, None]:
        if first is not None and (row is None or row[0] != first[0]):
            entries.append(_entry(first, lines))
            lines = []
        if row is None:
            break
        if not lines:
            first = row
        lines.append(Line(Account(row[4]), int(row[5]), row[13]))
    return entries


def _entry(row: Sequence[Any], lines: list[Line]) -> Entry:
    fields = dict(zip(JOURNAL_COLUMNS, row, strict=True))
    return Entry(
        entry_id=fields["entry_id"],
        seq=fields["seq"],
        facility_id=fields["facility_id"],
        kind=fields["kind"],
        currency=fields["currency"],
        business_date=fields["business_date"],
        posted_at=fields["posted_at"],
        stream_id=fields["stream_id"],
        version=fields["version"],
        position=fields["position"],
        booking_id=fields["booking_id"],
        description=fields["description"],
        lines=tuple(lines),
        reverses=fields["reverses"],
    )


def _bookings(
    cur: Cursor, booking_ids: set[UUID], closes: list[tuple[UUID, date]]
) -> list[BookingBooks]:
    if not booking_ids and not closes:
        return []
    cur.execute(
        BOOKINGS,
        (
            list(booking_ids),
            [facility for facility, _ in closes],
            [day for _, day in closes],
            _RECOGNISING,
        ),
    )
    return [
        BookingBooks(
            booking_id=row[0],
            facility_id=row[1],
            pool_id=row[2],
            reference=row[3],
            status=row[4],
            arrival=row[5],
            departure=row[6],
            total=int(row[7]),
            currency=row[8],
            time_zone=row[9],
            balances={account: int(row[10].get(account.value, 0)) for account in Account},
            quantity=row[11],
            night_prices=None if row[12] is None else tuple(int(p) for p in row[12]),
            recognised=set(row[13]),
        )
        for row in cur.fetchall()
    ]


def _pools(cur: Cursor, pool_ids: set[UUID]) -> list[PoolBooks]:
    if not pool_ids:
        return []
    cur.execute(
        "SELECT pool_id, facility_id, tax_rate_bp FROM ledger_pools WHERE pool_id = ANY(%s)",
        (list(pool_ids),),
    )
    return [PoolBooks(*row) for row in cur.fetchall()]


def _facilities(cur: Cursor, facility_ids: set[UUID]) -> list[FacilityBooks]:
    if not facility_ids:
        return []
    cur.execute(
        "SELECT facility_id, time_zone, currency FROM ledger_facilities"
        " WHERE facility_id = ANY(%s)",
        (list(facility_ids),),
    )
    return [FacilityBooks(*row) for row in cur.fetchall()]


def _closed_days(
    cur: Cursor, facility_ids: set[UUID], since: date | None
) -> list[tuple[UUID, date]]:
    if not facility_ids or since is None:
        return []
    cur.execute(
        "SELECT facility_id, business_date FROM ledger_closed_days"
        " WHERE facility_id = ANY(%s) AND business_date >= %s",
        (list(facility_ids), since),
    )
    return [(row[0], row[1]) for row in cur.fetchall()]


# -- saving ----------------------------------------------------------------------


def save(cur: Cursor, books: Books, entries: list[Entry]) -> None:
    if entries:
        copy_sql = f"COPY ledger_journal ({', '.join(JOURNAL_COLUMNS)}) FROM STDIN"
        with cur.copy(copy_sql.encode()) as copy:
            for row in journal_rows(entries):
                copy.write_row(row)
    if books.changed_facilities:
        cur.executemany(
            "INSERT INTO ledger_facilities (facility_id, time_zone, currency) VALUES (%s, %s, %s)"
            " ON CONFLICT (facility_id) DO UPDATE"
            " SET time_zone = EXCLUDED.time_zone, currency = EXCLUDED.currency",
            [
                (f.facility_id, f.time_zone, f.currency)
                for f in map(books.facilities.__getitem__, sorted(books.changed_facilities))
            ],
        )
    if books.changed_pools:
        cur.executemany(
            "INSERT INTO ledger_pools (pool_id, facility_id, tax_rate_bp) VALUES (%s, %s, %s)"
            " ON CONFLICT (pool_id) DO UPDATE SET tax_rate_bp = EXCLUDED.tax_rate_bp",
            [
                (p.pool_id, p.facility_id, p.tax_rate_bp)
                for p in map(books.pools.__getitem__, sorted(books.changed_pools))
            ],
        )
    if books.changed_bookings:
        _save_bookings(cur, [books.bookings[key] for key in sorted(books.changed_bookings)])
    if books.new_closed_days:
        cur.executemany(
            "INSERT INTO ledger_closed_days (facility_id, business_date, position)"
            " VALUES (%s, %s, %s)",
            books.new_closed_days,
        )


def journal_rows(entries: Iterable[Entry]) -> Iterable[tuple[Any, ...]]:
    for e in entries:
        for line_no, line in enumerate(e.lines, start=1):
            yield (
                e.entry_id, line_no, e.facility_id, e.kind, line.account.value, line.amount,
                e.currency, e.business_date, e.posted_at, e.stream_id, e.version, e.position,
                e.seq, line.booking_id, e.reverses, e.description,
            )  # fmt: skip


def _save_bookings(cur: Cursor, bookings: list[BookingBooks]) -> None:
    columns = ", ".join(BOOKING_COLUMNS)
    updated = ", ".join(f"{c} = EXCLUDED.{c}" for c in BOOKING_COLUMNS[1:])
    arrays = ", ".join(f"%s::{t}[]" for t in _BOOKING_TYPES)
    cur.execute(
        f"INSERT INTO ledger_bookings ({columns})"
        f" SELECT {', '.join(BOOKING_COLUMNS[:-2])}, night_prices::bigint[], recognised::date[]"
        f" FROM unnest({arrays}) AS v({columns})"
        f" ON CONFLICT (booking_id) DO UPDATE SET {updated}",
        [
            [b.booking_id for b in bookings],
            [b.facility_id for b in bookings],
            [b.pool_id for b in bookings],
            [b.reference for b in bookings],
            [b.status for b in bookings],
            [b.arrival for b in bookings],
            [b.departure for b in bookings],
            [b.total for b in bookings],
            [b.currency for b in bookings],
            [b.time_zone for b in bookings],
            [Jsonb({a.value: v for a, v in b.balances.items() if v}) for b in bookings],
            [b.quantity for b in bookings],
            [_array(b.night_prices) for b in bookings],
            [date_array(sorted(b.recognised)) for b in bookings],
        ],
    )


def _array(values: Iterable[int] | None) -> str | None:
    """A PostgreSQL array literal of the integers (None: NULL)."""
    return None if values is None else int_array(values)
