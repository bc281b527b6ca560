"""A facility's books as of any point, from the events alone, through the pure posting rules.

What an auditor checks the live ledger against: `BooksReplay` starts from empty
books, posts every event it is given (in position order, from the first) with
`berth.projections.ledger.post`, exactly as the projection does, and keeps
the debits and credits of one facility's accounts. It reads no read model.

Only that facility's entries are kept for reversals: a reversal names an entry
of its own facility (`ledger._reversal` ignores any other), so dropping the
rest changes nothing and keeps memory to one facility's journal.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent

from berth.projections import ledger
from berth.projections.ledger_books import Account, Books, natural


class BooksReplay:
    def __init__(self, facility_id: UUID) -> None:
        self.facility_id = facility_id
        self.books = Books()
        self.debits = dict.fromkeys(Account, 0)
        self.credits = dict.fromkeys(Account, 0)
        self.events = 0  # events replayed
        self.entries = 0  # entries of the facility posted
        self.position = 0  # of the last event replayed

    def apply(self, position: int, event: AggregateEvent) -> None:
        for entry in ledger.post(self.books, position, event):
            if entry.facility_id != self.facility_id:
                del self.books.entries[entry.entry_id]
                continue
            self.entries += 1
            for line in entry.lines:
                if line.amount > 0:
                    self.debits[line.account] += line.amount
                else:
                    self.credits[line.account] -= line.amount
        # What the projection writes back after a page; a replay keeps nothing to write.
        self.books.changed_bookings.clear()
        self.books.changed_pools.clear()
        self.books.changed_facilities.clear()
        self.books.new_closed_days.clear()
        self.events += 1
        self.position = position

    @property
    def known(self) -> bool:
        """Whether the facility was registered by the last event replayed."""
        return self.facility_id in self.books.facilities

    @property
    def currency(self) -> str | None:
        facility = self.books.facilities.get(self.facility_id)
        return facility.currency if facility else None

    def accounts(self) -> list[dict[str, Any]]:
        """Each account of the chart, as `GET /ledger/accounts` shows it."""
        return [
            {
                "account": account.value,
                "normal_side": "debit" if natural(account, 1) == 1 else "credit",
                "debits": self.debits[account],
                "credits": self.credits[account],
                "balance": natural(account, self.debits[account] - self.credits[account]),
            }
            for account in Account
        ]

    def trial_balance(self) -> dict[str, Any]:
        debits, credits = sum(self.debits.values()), sum(self.credits.values())
        return {
            "facility_id": str(self.facility_id),
            "currency": self.currency,
            "accounts": self.accounts(),
            "total_debits": debits,
            "total_credits": credits,
            "balanced": debits == credits,
            "events_replayed": self.events,
            "entries": self.entries,
            "through_position": self.position,
        }
