"""The ledger projection's posting rules: each event becomes balanced journal entries.

Pure functions over `Books` (the state of the bookings, pools and facilities the
page touches); the adapter loads that state, calls `post` for each event in
notification order and writes the entries and the changed state with the
projection's position, in one transaction. Prices are tax-inclusive gross
amounts; revenue lines are net of the pool's tax rate, the tax goes to tax payable.

- confirmation: Dr receivable / Cr deferred revenue, the booking's total;
- payment: Dr cash / Cr receivable (on a cancelled or expired booking, what the
  guest did not owe goes to refunds payable);
- amendment of a confirmed booking: the difference of the totals to (or from)
  receivable; deferred revenue becomes what the booking's open nights hold and
  the rest of the difference goes to (or comes back from) stay revenue and tax
  at once, so a change after closed nights is recognised at once, either way;
  a held booking posts nothing;
- close of day D: every recognising booking with a night on D moves deferred
  revenue down to its total less what its nights on closed days earned
  (`berth.domain.recognition`: each night its price as sold times the quantity,
  the stay's last night the remainder of the total; a booking without a nightly
  breakdown, total * closed // nights), the difference to stay revenue (net) and
  tax payable, so a booking whose nights are all closed defers nothing; a
  booking confirmed after some of its nights were closed recognises those at once;
- cancellation: everything charged is reversed (deferred, stay and overstay
  revenue, their tax) against receivable, except the fee, which is
  cancellation-fee revenue with no tax (the fee is compensation for a stay that
  did not take place, not a supply: treated as outside the scope of VAT);
- a cancelled or expired booking whose receivable is negative (paid more than
  it owes) has that moved to refunds payable;
- refund succeeded: Dr refunds payable (up to the booking's) and receivable
  (the rest) / Cr cash; requested and failed refunds post nothing;
- overstay: Dr receivable / Cr overstay revenue (net) and tax payable;
- reversal: a new entry with every line of the named entry negated; then, for a
  booking, what stays charged follows its terms again (`Poster.follow_terms`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from berth.domain.booking import Booking, Status
from berth.domain.business_day import BusinessDay
from berth.domain.correction import EntryReversal
from berth.domain.facility import Facility
from berth.domain.pool import Pool
from berth.domain.stay import local_date
from berth.projections.ledger_books import (
    Account,
    BookingBooks,
    Books,
    Entry,
    FacilityBooks,
    Line,
    PoolBooks,
    entry_id,
    tax_included,
)

NAME = "ledger"

RECOGNISING = frozenset({Status.CONFIRMED, Status.CHECKED_IN, Status.CHECKED_OUT, Status.NO_SHOW})
ENDED = frozenset({Status.CANCELLED, Status.EXPIRED})
# What a cancellation takes back from the books of a booking, besides the fee.
CHARGED = (Account.DEFERRED, Account.STAY_REVENUE, Account.OVERSTAY_REVENUE, Account.TAX_PAYABLE)

R, D, C = Account.RECEIVABLE, Account.DEFERRED, Account.CASH


class Poster:
    """Posts the entries of one event, numbering them, and applies them to the books."""

    def __init__(self, books: Books, position: int, event: AggregateEvent) -> None:
        self.books = books
        self.position = position
        self.event = event
        self.entries: list[Entry] = []

    def booking(self) -> BookingBooks:
        booking = self.books.bookings[self.event.originator_id]
        self.books.changed_bookings.add(booking.booking_id)
        return booking

    def tax_rate(self, booking: BookingBooks) -> int:
        pool = self.books.pools.get(booking.pool_id)
        return pool.tax_rate_bp if pool else 0

    def today(self, time_zone: str) -> date:
        return local_date(self.event.timestamp, time_zone)

    def post(
        self,
        kind: str,
        booking: BookingBooks,
        description: str,
        lines: Iterable[tuple[Account, int]],
        *,
        business_date: date | None = None,
    ) -> None:
        self.post_lines(
            kind,
            facility_id=booking.facility_id,
            currency=booking.currency,
            business_date=business_date or self.today(booking.time_zone),
            booking_id=booking.booking_id,
            description=f"{description}, booking {booking.reference}",
            lines=[Line(account, amount, booking.booking_id) for account, amount in lines],
        )

    def post_lines(
        self,
        kind: str,
        *,
        facility_id: UUID,
        currency: str,
        business_date: date,
        booking_id: UUID | None,
        description: str,
        lines: Iterable[Line],
        reverses: UUID | None = None,
    ) -> None:
        kept = tuple(line for line in lines if line.amount)
        if not kept:
            return
        if sum(line.amount for line in kept) != 0:
            raise AssertionError(f"unbalanced {kind} entry at {self.position}: {kept}")
        seq = len(self.entries)
        entry = Entry(
            entry_id=entry_id(self.position, seq),
            seq=seq,
            facility_id=facility_id,
            kind=kind,
            currency=currency,
            business_date=business_date,
            posted_at=self.event.timestamp,
            stream_id=self.event.originator_id,
            version=self.event.originator_version,
            position=self.position,
            booking_id=booking_id,
            description=description,
            lines=kept,
            reverses=reverses,
        )
        for line in kept:
            booking = self.books.bookings.get(line.booking_id) if line.booking_id else None
            if booking is not None:
                booking.balances[line.account] += line.amount
                self.books.changed_bookings.add(booking.booking_id)
        self.books.entries[entry.entry_id] = entry
        self.entries.append(entry)

    # -- rules shared by several events ----------------------------------------

    def recognise(self, booking: BookingBooks, night: date, business_date: date) -> None:
        """Close `night` for the booking: deferred revenue comes down to its open nights."""
        if night not in booking.nights() or night in booking.recognised:
            return
        booking.recognised.add(night)
        self.books.changed_bookings.add(booking.booking_id)
        gross = booking.balance(D) - booking.deferred_target()
        tax = tax_included(gross, self.tax_rate(booking))
        self.post(
            "recognition",
            booking,
            f"night of {night.isoformat()}",
            [(D, gross), (Account.STAY_REVENUE, -(gross - tax)), (Account.TAX_PAYABLE, -tax)],
            business_date=business_date,
        )

    def closed_nights(self, booking: BookingBooks) -> set[date]:
        closed = self.books.closed_days.get(booking.facility_id, set())
        return {night for night in booking.nights() if night in closed}

    def catch_up(self, booking: BookingBooks) -> None:
        """Recognise the booking's nights on days already closed."""
        if booking.status not in RECOGNISING:
            return
        for night in sorted(self.closed_nights(booking)):
            self.recognise(booking, night, self.today(booking.time_zone))

    def follow_terms(self, booking: BookingBooks) -> None:
        """After a reversal, what stays charged is again what the booking's terms say.

        A staying booking's deferred revenue goes back to what its open nights
        hold (the rest to or from stay revenue); an ended booking keeps nothing
        charged but its fee, as its cancellation left it. Reversals of payments,
        refunds and overstay charges need nothing here.
        """
        if booking.status in RECOGNISING:
            gross = booking.balance(D) - booking.deferred_target()
            tax = tax_included(gross, self.tax_rate(booking))
            lines = [
                (D, gross),
                (Account.STAY_REVENUE, -(gross - tax)),
                (Account.TAX_PAYABLE, -tax),
            ]
            self.post("reversal", booking, "deferred revenue back to the open nights", lines)
        elif booking.status in ENDED:
            charged = sum(booking.balance(account) for account in CHARGED)
            lines = [(account, booking.balance(account)) for account in CHARGED]
            self.post(
                "reversal", booking, "nothing stays charged when ended", [*lines, (R, -charged)]
            )
            self.settle_overpayment(booking)

    def settle_overpayment(self, booking: BookingBooks) -> None:
        """An ended booking's negative receivable is owed to the guest: refunds payable."""
        receivable = booking.balance(R)
        if booking.status in ENDED and receivable < 0:
            self.post(
                "reclassification",
                booking,
                "overpayment owed to the guest",
                [(R, -receivable), (Account.REFUNDS_PAYABLE, receivable)],
            )


# -- one function per event ----------------------------------------------------


def _facility_registered(p: Poster, event: Any) -> None:
    key = event.originator_id
    p.books.facilities[key] = FacilityBooks(key, event.time_zone)
    p.books.changed_facilities.add(key)


def _currency_set(p: Poster, event: Any) -> None:
    facility = p.books.facilities[event.originator_id]
    facility.currency = event.currency
    p.books.changed_facilities.add(facility.facility_id)


def _pool_added(p: Poster, event: Any) -> None:
    key = event.originator_id
    p.books.pools[key] = PoolBooks(key, event.facility_id)
    p.books.changed_pools.add(key)


def _tax_rate_set(p: Poster, event: Any) -> None:
    pool = p.books.pools[event.originator_id]
    pool.tax_rate_bp = event.rate_bp
    p.books.changed_pools.add(pool.pool_id)


def _held(p: Poster, event: Any) -> None:
    key = event.originator_id
    p.books.bookings[key] = BookingBooks(
        booking_id=key,
        facility_id=event.facility_id,
        pool_id=event.pool_id,
        reference=event.reference,
        status=Status.HELD.value,
        arrival=event.arrival,
        departure=event.departure,
        total=event.total,
        currency=event.currency,
        time_zone=event.time_zone,
        quantity=event.quantity,
        night_prices=tuple(event.night_prices),
    )
    p.books.changed_bookings.add(key)


def _confirmed(p: Poster, event: Any) -> None:
    booking = p.booking()
    booking.status = Status.CONFIRMED.value
    p.post("confirmation", booking, "stay confirmed", [(R, booking.total), (D, -booking.total)])
    p.catch_up(booking)


def _amended(p: Poster, event: Any) -> None:
    booking = p.booking()
    booking.arrival, booking.departure = event.arrival, event.departure
    booking.total = event.total
    booking.quantity = event.quantity
    # Older amendments carry no breakdown: the stay's total is then earned evenly.
    booking.night_prices = None if event.night_prices is None else tuple(event.night_prices)
    if booking.status != Status.CONFIRMED:
        return  # a hold is not charged yet
    # The new total is owed at once; of it, what the nights on closed days hold is
    # revenue at once (either way), and deferred revenue keeps what the open nights hold.
    booking.recognised = p.closed_nights(booking)
    difference = event.total - event.previous_total
    to_deferred = booking.deferred_target() - booking.balance(D)
    to_revenue = difference - to_deferred
    tax = tax_included(to_revenue, p.tax_rate(booking))
    revenue = [(Account.STAY_REVENUE, -(to_revenue - tax)), (Account.TAX_PAYABLE, -tax)]
    if difference >= 0:
        lines = [(R, difference), (D, -to_deferred), *revenue]
    else:
        lines = [(D, -to_deferred), *revenue, (R, difference)]
    p.post("amendment", booking, f"total {event.previous_total} -> {event.total}", lines)


def _cancelled(p: Poster, event: Any) -> None:
    booking = p.booking()
    booking.status = Status.CANCELLED.value
    charged = sum(booking.balance(account) for account in CHARGED)
    lines = [(account, booking.balance(account)) for account in CHARGED]
    lines += [(Account.FEE_REVENUE, -event.fee), (R, -(charged - event.fee))]
    p.post("cancellation", booking, f"cancelled, fee {event.fee}", lines)
    p.settle_overpayment(booking)


def _expired(p: Poster, event: Any) -> None:
    booking = p.booking()
    booking.status = Status.EXPIRED.value
    p.settle_overpayment(booking)


def _status(status: Status) -> Callable[[Poster, Any], None]:
    def change(p: Poster, event: Any) -> None:
        p.booking().status = status.value

    return change


def _payment(p: Poster, event: Any) -> None:
    booking = p.booking()
    amount = event.amount
    to_receivable = amount
    if booking.status in ENDED:
        to_receivable = min(amount, max(booking.balance(R), 0))
    lines = [(C, amount), (R, -to_receivable), (Account.REFUNDS_PAYABLE, -(amount - to_receivable))]
    p.post("payment", booking, f"payment {event.payment_id} by {event.method}", lines)


def _refund_succeeded(p: Poster, event: Any) -> None:
    booking = p.booking()
    amount = event.amount
    from_payable = min(amount, max(booking.balance(Account.REFUNDS_PAYABLE), 0))
    lines = [(Account.REFUNDS_PAYABLE, from_payable), (R, amount - from_payable), (C, -amount)]
    p.post("refund", booking, f"refund {event.refund_id} paid out", lines)


def _overstay(p: Poster, event: Any) -> None:
    booking = p.booking()
    tax = tax_included(event.amount, p.tax_rate(booking))
    lines = [(R, event.amount), (Account.OVERSTAY_REVENUE, -(event.amount - tax))]
    lines.append((Account.TAX_PAYABLE, -tax))
    p.post("overstay", booking, f"overstay of {event.hours} h", lines)


def _day_closed(p: Poster, event: Any) -> None:
    facility_id, day = event.facility_id, event.business_date
    p.books.closed_days.setdefault(facility_id, set()).add(day)
    p.books.new_closed_days.append((facility_id, day, p.position))
    in_house = sorted(
        (
            b
            for b in p.books.bookings.values()
            if b.arrival <= day < b.departure and b.status in RECOGNISING
            and b.facility_id == facility_id
        ),
        key=lambda b: str(b.booking_id),
    )  # fmt: skip
    for booking in in_house:
        p.recognise(booking, day, day)


def _reversal(p: Poster, event: Any) -> None:
    original = p.books.entries.get(event.entry_id)
    facility = p.books.facilities.get(event.facility_id)
    if original is None or facility is None or original.facility_id != event.facility_id:
        return  # nothing posted under that id here: the command's caller was told so
    p.post_lines(
        "reversal",
        facility_id=original.facility_id,
        currency=original.currency,
        business_date=p.today(facility.time_zone),
        booking_id=original.booking_id,
        description=f"reversal of {original.kind} {original.entry_id}: {event.reason}",
        lines=[Line(line.account, -line.amount, line.booking_id) for line in original.lines],
        reverses=original.entry_id,
    )
    for booking_id in sorted({line.booking_id for line in original.lines if line.booking_id}):
        booking = p.books.bookings.get(booking_id)
        if booking is not None:
            p.follow_terms(booking)


RULES: dict[type[Any], Callable[[Poster, Any], None]] = {
    Facility.Registered: _facility_registered,
    Facility.CurrencySet: _currency_set,
    Pool.Added: _pool_added,
    Pool.TaxRateSet: _tax_rate_set,
    Booking.Held: _held,
    Booking.Confirmed: _confirmed,
    Booking.Amended: _amended,
    Booking.Cancelled: _cancelled,
    Booking.Expired: _expired,
    Booking.CheckedIn: _status(Status.CHECKED_IN),
    Booking.VehicleArrived: _status(Status.CHECKED_IN),
    Booking.CheckedOut: _status(Status.CHECKED_OUT),
    Booking.VehicleDeparted: _status(Status.CHECKED_OUT),
    Booking.NoShowRecorded: _status(Status.NO_SHOW),
    Booking.PaymentRecorded: _payment,
    Booking.RefundSucceeded: _refund_succeeded,
    Booking.OverstayCharged: _overstay,
    BusinessDay.Closed: _day_closed,
    EntryReversal.Recorded: _reversal,
}
TOPICS = frozenset(get_topic(cls) for cls in RULES)
BOOKING_EVENTS = frozenset(cls for cls in RULES if cls.__qualname__.startswith("Booking."))


def post(books: Books, position: int, event: AggregateEvent) -> list[Entry]:
    """The entries the event at `position` causes; `books` is brought up to date."""
    rule = RULES.get(type(event))
    if rule is None:
        return []
    poster = Poster(books, position, event)
    rule(poster, event)
    return poster.entries


def fold(events: Iterable[tuple[int, AggregateEvent]]) -> list[tuple[int, AggregateEvent]]:
    """A page for the adapter: the posting needs state only the database holds."""
    return list(events)
