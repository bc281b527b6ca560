"""A booking's statement: its entries that change what the guest owes, and the balance due.

What the guest owes is the booking's receivable less what the business owes the
guest (refunds payable), so each entry's effect is the sum of its lines on those
two accounts. Reclassifications move money between them and change nothing due;
they are listed so the statement explains both balances.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from berth.projections.ledger_books import Account, Entry

CATEGORY = {
    "confirmation": "charge",
    "amendment": "charge",
    "overstay": "charge",
    "cancellation": "charge",
    "payment": "payment",
    "refund": "refund",
    "reversal": "correction",
    "reclassification": "reclassification",
}
DUE_ACCOUNTS = frozenset({Account.RECEIVABLE, Account.REFUNDS_PAYABLE})


@dataclass(frozen=True)
class StatementLine:
    entry: Entry
    category: str
    amount: int  # the change in what the guest owes


@dataclass(frozen=True)
class Statement:
    booking_id: UUID
    lines: list[StatementLine]
    charges: int
    payments: int
    refunds: int
    corrections: int
    receivable: int
    refunds_payable: int

    @property
    def balance_due(self) -> int:
        """Negative: the business owes the guest."""
        return self.charges - self.payments + self.refunds + self.corrections


def statement(booking_id: UUID, entries: Iterable[Entry]) -> Statement:
    """The statement of `booking_id` from its entries, in journal order."""
    lines: list[StatementLine] = []
    totals = dict.fromkeys(("charge", "payment", "refund", "correction"), 0)
    receivable = payable = 0
    for entry in sorted(entries, key=lambda e: (e.position, e.seq)):
        mine = [x for x in entry.lines if x.booking_id == booking_id and x.account in DUE_ACCOUNTS]
        if not mine:
            continue
        amount = sum(x.amount for x in mine)
        receivable += sum(x.amount for x in mine if x.account == Account.RECEIVABLE)
        payable -= sum(x.amount for x in mine if x.account == Account.REFUNDS_PAYABLE)
        category = CATEGORY.get(entry.kind, "correction")
        if category in totals:
            totals[category] += amount
        lines.append(StatementLine(entry, category, amount))
    return Statement(
        booking_id=booking_id,
        lines=lines,
        charges=totals["charge"],
        payments=-totals["payment"],
        refunds=totals["refund"],
        corrections=totals["correction"],
        receivable=receivable,
        refunds_payable=payable,
    )
