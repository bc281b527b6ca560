"""The ledger's vocabulary: the chart of accounts, journal entries and the state postings need.

Amounts are integer minor units, signed: a debit is positive, a credit negative,
so every entry's lines sum to zero and so does the whole journal (the trial
balance). `Books` is what the posting rules read and change: per facility its
time zone and currency, per pool its tax rate, per booking its terms, status and
its own sub-ledger (a balance per account), and the days closed so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from berth.domain.recognition import recognised

ENTRY_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/ledger-entry")
BASIS = 10_000  # basis points in one


class Account(StrEnum):
    CASH = "cash"
    RECEIVABLE = "accounts_receivable"
    DEFERRED = "deferred_revenue"
    STAY_REVENUE = "stay_revenue"
    FEE_REVENUE = "cancellation_fee_revenue"
    OVERSTAY_REVENUE = "overstay_revenue"
    REFUNDS_PAYABLE = "refunds_payable"
    TAX_PAYABLE = "tax_payable"


# Debit-normal accounts (assets) show a positive balance when debited; the others
# (liabilities, revenue) when credited.
DEBIT_NORMAL = frozenset({Account.CASH, Account.RECEIVABLE})
REVENUE = (Account.STAY_REVENUE, Account.FEE_REVENUE, Account.OVERSTAY_REVENUE)


def natural(account: Account, signed: int) -> int:
    """A signed (debit-positive) balance as the account shows it."""
    return signed if account in DEBIT_NORMAL else -signed


def tax_included(gross: int, rate_bp: int) -> int:
    """The tax inside a tax-inclusive amount: gross - round(gross / (1 + rate)), half up."""
    if gross < 0:
        return -tax_included(-gross, rate_bp)
    net = (2 * gross * BASIS + BASIS + rate_bp) // (2 * (BASIS + rate_bp))
    return gross - net


def entry_id(position: int, seq: int) -> UUID:
    """Deterministic: the `seq`-th entry caused by the event at `position`."""
    return uuid5(ENTRY_NAMESPACE, f"{position}/{seq}")


@dataclass(frozen=True)
class Line:
    account: Account
    amount: int  # debit positive, credit negative
    booking_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class Entry:
    entry_id: UUID
    seq: int  # its index among the entries of its event
    facility_id: UUID
    kind: str
    currency: str
    business_date: date
    posted_at: datetime
    stream_id: UUID  # the causing event: its aggregate, version and position
    version: int
    position: int
    booking_id: UUID | None
    description: str
    lines: tuple[Line, ...]
    reverses: UUID | None = None


@dataclass
class FacilityBooks:
    facility_id: UUID
    time_zone: str
    currency: str | None = None


@dataclass
class PoolBooks:
    pool_id: UUID
    facility_id: UUID
    tax_rate_bp: int = 0


def _no_balances() -> dict[Account, int]:
    return dict.fromkeys(Account, 0)


@dataclass
class BookingBooks:
    booking_id: UUID
    facility_id: UUID
    pool_id: UUID
    reference: str
    status: str
    arrival: date
    departure: date
    total: int
    currency: str
    time_zone: str
    balances: dict[Account, int] = field(default_factory=_no_balances)  # signed
    recognised: set[date] = field(default_factory=set)  # nights moved to revenue
    quantity: int = 1
    # One unit's price each night of the stay, as sold; None: none known (an
    # amendment recorded before rate plans), the total is earned evenly.
    night_prices: tuple[int, ...] | None = None

    def nights(self) -> list[date]:
        return [
            self.arrival + timedelta(days=n) for n in range((self.departure - self.arrival).days)
        ]

    def deferred_target(self) -> int:
        """What deferred revenue holds with the recognised nights closed (`recognition`)."""
        earned = recognised(
            total=self.total,
            nights=(self.departure - self.arrival).days,
            closed=((night - self.arrival).days for night in self.recognised),
            night_prices=self.night_prices,
            quantity=self.quantity,
        )
        return self.total - earned

    def balance(self, account: Account) -> int:
        """The booking's balance on `account`, as the account shows it."""
        return natural(account, self.balances[account])

    @property
    def due(self) -> int:
        """What the guest owes (negative: what the guest is owed)."""
        return self.balances[Account.RECEIVABLE] + self.balances[Account.REFUNDS_PAYABLE]


@dataclass
class Books:
    """The state the posting rules need; `changed_*` say what to write back."""

    facilities: dict[UUID, FacilityBooks] = field(default_factory=dict)
    pools: dict[UUID, PoolBooks] = field(default_factory=dict)
    bookings: dict[UUID, BookingBooks] = field(default_factory=dict)
    closed_days: dict[UUID, set[date]] = field(default_factory=dict)
    entries: dict[UUID, Entry] = field(default_factory=dict)  # those a reversal may name
    changed_facilities: set[UUID] = field(default_factory=set)
    changed_pools: set[UUID] = field(default_factory=set)
    changed_bookings: set[UUID] = field(default_factory=set)
    new_closed_days: list[tuple[UUID, date, int]] = field(default_factory=list)
