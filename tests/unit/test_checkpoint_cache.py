"""Decoded replay checkpoints kept in the process: bounded, LRU, handed out as copies."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from berth.adapters.audit.ledger_checkpoints import Key, Restored
from berth.projections.ledger_books import Account, BookingBooks
from berth.projections.ledger_replay import BooksReplay


def key(position: int) -> Key:
    return ("localhost", 5432, "berth", UUID(int=1), "rules", position)


def books(facility_id: UUID) -> BooksReplay:
    replay = BooksReplay(facility_id)
    booking = BookingBooks(
        uuid4(), facility_id, uuid4(), "R-1", "confirmed", date(2030, 6, 2), date(2030, 6, 4),
        4000, "EUR", "Europe/London",
    )  # fmt: skip
    replay.books.bookings[booking.booking_id] = booking
    replay.books.closed_days[facility_id] = {date(2030, 6, 1)}
    return replay


def test_at_most_size_are_kept_and_the_least_recently_used_goes_first() -> None:
    restored = Restored(2, 1_000)
    for position in (1, 2):
        restored.put(key(position), books(uuid4()))
    assert restored.get(key(1)) is not None  # now the most recently used
    restored.put(key(3), books(uuid4()))
    assert len(restored) == 2
    assert restored.get(key(2)) is None
    assert restored.get(key(1)) is not None and restored.get(key(3)) is not None


def test_what_is_handed_out_is_a_copy_whose_changes_never_reach_the_kept_books() -> None:
    restored = Restored(1, 1_000)
    facility_id = uuid4()
    restored.put(key(1), books(facility_id))
    first = restored.get(key(1))
    assert first is not None
    booking = next(iter(first.books.bookings.values()))
    booking.balances[Account.CASH] += 100
    booking.recognised.add(date(2030, 6, 2))
    booking.status = "cancelled"
    first.books.closed_days[facility_id].add(date(2030, 6, 2))
    first.debits[Account.CASH] += 100
    again = restored.get(key(1))
    assert again is not None
    kept = next(iter(again.books.bookings.values()))
    assert (kept.balances[Account.CASH], kept.recognised, kept.status) == (0, set(), "confirmed")
    assert again.books.closed_days[facility_id] == {date(2030, 6, 1)}
    assert again.debits[Account.CASH] == 0


def test_the_bookings_and_entries_kept_stay_within_the_row_budget() -> None:
    restored = Restored(16, 2)  # each of these books holds one booking
    for position in (1, 2, 3):
        restored.put(key(position), books(uuid4()))
    assert len(restored) == 2
    assert restored.get(key(1)) is None
    larger = books(uuid4())
    larger.books.bookings.update(books(uuid4()).books.bookings)
    larger.books.bookings.update(books(uuid4()).books.bookings)
    restored.put(key(4), larger)  # three rows: more than the whole budget, not kept
    assert len(restored) == 0 and restored.get(key(4)) is None
