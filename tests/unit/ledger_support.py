"""Helpers of the ledger tests: the posting rules fed from an in-memory app's events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from berth.domain.application import Reservations
from berth.projections import ledger
from berth.projections.ledger_books import Account, Books, Entry, natural
from berth.projections.statement import Statement, statement

INJECTED = 1_000_000  # positions of hand-made events, after any the app stores in a test


class Ledger:
    """The ledger as the projection would build it, from the app's notification log."""

    def __init__(self, app: Reservations) -> None:
        self.app = app
        self.books = Books()
        self.position = 0
        self.injected = INJECTED
        self.entries: list[Entry] = []

    def sync(self) -> list[Entry]:
        """Post every event stored since the last sync; the entries they caused."""
        new: list[Entry] = []
        while True:
            page = self.app.recorder.select_notifications(start=self.position + 1, limit=500)
            if not page:
                break
            for notification in page:
                event = self.app.mapper.to_domain_event(notification)
                assert isinstance(event, AggregateEvent)
                new += ledger.post(self.books, notification.id, event)
                self.position = notification.id
        self.entries += new
        return new

    def inject(self, event: AggregateEvent) -> list[Entry]:
        """Post a hand-made event (one the app would not make with these numbers)."""
        self.injected += 1
        new = ledger.post(self.books, self.injected, event)
        self.entries += new
        return new

    def balance(self, account: Account, booking_id: UUID | None = None) -> int:
        return natural(account, self.signed(account, booking_id))

    def signed(self, account: Account, booking_id: UUID | None = None) -> int:
        return sum(
            line.amount
            for entry in self.entries
            for line in entry.lines
            if line.account == account and (booking_id is None or line.booking_id == booking_id)
        )

    def balances(self, booking_id: UUID | None = None) -> dict[str, int]:
        """Every non-zero balance, as the accounts show them."""
        found = {a.value: self.balance(a, booking_id) for a in Account}
        return {name: amount for name, amount in found.items() if amount}

    def trial_balance(self) -> int:
        return sum(line.amount for entry in self.entries for line in entry.lines)

    def statement(self, booking_id: UUID) -> Statement:
        return statement(booking_id, self.entries)


def lines(entries: Iterable[Entry]) -> list[tuple[str, str, int]]:
    """(kind, account, signed amount) of each line, for compact assertions."""
    return [(e.kind, line.account.value, line.amount) for e in entries for line in e.lines]


def next_event(app: Reservations, booking_id: UUID, cls: type[Any], **fields: Any) -> Any:
    """A hand-made event of the booking, as its next version, at the app's clock."""
    booking = app.bookings.booking(booking_id)
    return cls(
        originator_id=booking_id,
        originator_version=booking.version + 1,
        timestamp=app.clock(),
        cause={"principal": "t", "channel": "t", "request_id": "r", "correlation_id": "c"},
        **fields,
    )
