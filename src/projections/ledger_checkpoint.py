"""A `BooksReplay`'s whole state as plain JSON, and back: what a replay checkpoint holds.

A checkpoint is exact: restoring it and replaying the events after its
position gives the same books as replaying from zero (the tests check). It is
tied to the posting rules by `RULES`, a digest of the source of the modules
that compute the books (the domain's recognition rule among them): after any
change to them, older checkpoints are simply not used.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from datetime import date, datetime
from typing import Any
from uuid import UUID

from berth.domain import recognition
from berth.projections import ledger, ledger_books
from berth.projections.ledger_books import (
    Account,
    BookingBooks,
    Entry,
    FacilityBooks,
    Line,
    PoolBooks,
)
from berth.projections.ledger_replay import BooksReplay


def _rules_digest() -> str:
    modules = (
        ledger,
        ledger_books,
        recognition,
        sys.modules[BooksReplay.__module__],
        sys.modules[__name__],
    )
    source = "".join(inspect.getsource(module) for module in modules)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


RULES = _rules_digest()


def _uuid(value: UUID | None) -> str | None:
    return None if value is None else str(value)


@functools.lru_cache(maxsize=65_536)
def _parsed(value: str) -> UUID:
    """Ids recur (a facility's, a booking's on each entry and line): parse each once."""
    return UUID(value)


def _to_uuid(value: str | None) -> UUID | None:
    return None if value is None else _parsed(value)


def _sums(sums: dict[Account, int]) -> dict[str, int]:
    return {account.value: amount for account, amount in sums.items()}


# Account(value) goes through the enum machinery; a restore looks up tens of thousands.
_ACCOUNTS = {account.value: account for account in Account}


def _to_sums(sums: dict[str, int]) -> dict[Account, int]:
    return {_ACCOUNTS[account]: amount for account, amount in sums.items()}


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "entry_id": str(entry.entry_id),
        "seq": entry.seq,
        "facility_id": str(entry.facility_id),
        "kind": entry.kind,
        "currency": entry.currency,
        "business_date": entry.business_date.isoformat(),
        "posted_at": entry.posted_at.isoformat(),
        "stream_id": str(entry.stream_id),
        "version": entry.version,
        "position": entry.position,
        "booking_id": _uuid(entry.booking_id),
        "description": entry.description,
        "lines": [
            [line.account.value, line.amount, _uuid(line.booking_id)] for line in entry.lines
        ],
        "reverses": _uuid(entry.reverses),
    }


def _to_entry(data: dict[str, Any]) -> Entry:
    return Entry(
        entry_id=_parsed(data["entry_id"]),
        seq=data["seq"],
        facility_id=_parsed(data["facility_id"]),
        kind=data["kind"],
        currency=data["currency"],
        business_date=date.fromisoformat(data["business_date"]),
        posted_at=datetime.fromisoformat(data["posted_at"]),
        stream_id=_parsed(data["stream_id"]),
        version=data["version"],
        position=data["position"],
        booking_id=_to_uuid(data["booking_id"]),
        description=data["description"],
        lines=tuple(
            Line(_ACCOUNTS[account], amount, _to_uuid(booking_id))
            for account, amount, booking_id in data["lines"]
        ),
        reverses=_to_uuid(data["reverses"]),
    )


def _booking(booking: BookingBooks) -> dict[str, Any]:
    return {
        "booking_id": str(booking.booking_id),
        "facility_id": str(booking.facility_id),
        "pool_id": str(booking.pool_id),
        "reference": booking.reference,
        "status": booking.status,
        "arrival": booking.arrival.isoformat(),
        "departure": booking.departure.isoformat(),
        "total": booking.total,
        "currency": booking.currency,
        "time_zone": booking.time_zone,
        "balances": _sums(booking.balances),
        "recognised": sorted(night.isoformat() for night in booking.recognised),
        "quantity": booking.quantity,
        "night_prices": None if booking.night_prices is None else list(booking.night_prices),
    }


def _to_booking(data: dict[str, Any]) -> BookingBooks:
    return BookingBooks(
        booking_id=_parsed(data["booking_id"]),
        facility_id=_parsed(data["facility_id"]),
        pool_id=_parsed(data["pool_id"]),
        reference=data["reference"],
        status=data["status"],
        arrival=date.fromisoformat(data["arrival"]),
        departure=date.fromisoformat(data["departure"]),
        total=data["total"],
        currency=data["currency"],
        time_zone=data["time_zone"],
        balances=_to_sums(data["balances"]),
        recognised={date.fromisoformat(night) for night in data["recognised"]},
        quantity=data["quantity"],
        night_prices=None if data["night_prices"] is None else tuple(data["night_prices"]),
    )


def state(replay: BooksReplay) -> dict[str, Any]:
    """Everything a replay knows, as JSON values."""
    books = replay.books
    return {
        "facility_id": str(replay.facility_id),
        "events": replay.events,
        "entries": replay.entries,
        "position": replay.position,
        "latest": None if replay.latest is None else replay.latest.isoformat(),
        "debits": _sums(replay.debits),
        "credits": _sums(replay.credits),
        "facilities": [
            [str(f.facility_id), f.time_zone, f.currency] for f in books.facilities.values()
        ],
        "pools": [
            [str(p.pool_id), str(p.facility_id), p.tax_rate_bp] for p in books.pools.values()
        ],
        "bookings": [_booking(booking) for booking in books.bookings.values()],
        "closed_days": {
            str(facility_id): sorted(day.isoformat() for day in days)
            for facility_id, days in books.closed_days.items()
        },
        "book_entries": [_entry(entry) for entry in books.entries.values()],
    }


def restore(data: dict[str, Any]) -> BooksReplay:
    """The replay `state` was taken from, ready to go on."""
    replay = BooksReplay(_parsed(data["facility_id"]))
    replay.events, replay.entries, replay.position = (
        data["events"],
        data["entries"],
        data["position"],
    )
    replay.latest = None if data["latest"] is None else datetime.fromisoformat(data["latest"])
    replay.debits, replay.credits = _to_sums(data["debits"]), _to_sums(data["credits"])
    books = replay.books
    for facility_id, time_zone, currency in data["facilities"]:
        key = _parsed(facility_id)
        books.facilities[key] = FacilityBooks(key, time_zone, currency)
    for pool_id, facility_id, rate in data["pools"]:
        books.pools[_parsed(pool_id)] = PoolBooks(_parsed(pool_id), _parsed(facility_id), rate)
    for booking in map(_to_booking, data["bookings"]):
        books.bookings[booking.booking_id] = booking
    for facility_id, days in data["closed_days"].items():
        books.closed_days[_parsed(facility_id)] = {date.fromisoformat(day) for day in days}
    for entry in map(_to_entry, data["book_entries"]):
        books.entries[entry.entry_id] = entry
    return replay
