"""The ledger under any sequence of booking, payment, amendment, cancellation, refund,
overstay, reversal and close-day commands: the in-memory app's events folded through
the pure posting rules.

After every command: each entry balances and so does the whole journal (the
trial balance is zero); each booking's receivable less refunds payable is what
its statement says is due, and what the domain's `balance_due()` says (less the
total of a booking still held: a hold is not charged; plus the corrections the
ledger's reversals made, which the domain does not see); deferred revenue is
never negative, in all or for any booking, and is zero for a booking whose
nights are all closed; a recognising booking defers its total less what its
closed nights were sold at (each night's price times the quantity: bookings are
held at the pool's price or under a plan with its own weekend prices); cash is
what was paid less what was refunded (and what reversals moved). Days close
only in order, once over: any other close is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from hypothesis import event as tally
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from berth.domain.application import Reservations
from berth.domain.booking import Status
from berth.domain.cancellation import CancellationPolicy
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.error import DomainError
from berth.domain.pricing import DEFAULT_PLAN, PlanTerms
from berth.domain.stay import Stay
from berth.projections import ledger
from berth.projections.ledger_books import Account, Books, Entry, natural
from berth.projections.statement import statement

START = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)  # the facility is in UTC
REVERSIBLE = frozenset(
    {"payment", "refund", "overstay", "reclassification", "recognition", "reversal"}
)
CAUSE = Cause(principal="hypothesis", channel="test", request_id="r", correlation_id="c")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class LedgerMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    @initialize(
        rate_bp=st.sampled_from([0, 700, 2000, 2100]),
        price=st.integers(1, 5000),
        fee_percent=st.sampled_from([0, 33, 50, 100]),
        weekend=st.tuples(st.integers(0, 9000), st.integers(0, 9000)),
    )
    def open_pool(
        self, rate_bp: int, price: int, fee_percent: int, weekend: tuple[int, int]
    ) -> None:
        self.clock = Clock(START)
        self.app = Reservations({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=self.clock)
        self.facility_id = self.app.catalogue.register_facility(
            name="Marina", time_zone="UTC", context=CommandContext(cause=CAUSE)
        ).id
        policy = CancellationPolicy(free_until_hours=24, fee_percent=fee_percent)
        self.pool_id = self.app.catalogue.add_pool(
            facility_id=self.facility_id, name="Berths", capacity=50, nightly_price=price,
            currency="EUR", cancellation=policy, context=CommandContext(cause=CAUSE),
        ).id  # fmt: skip
        self.app.catalogue.set_tax_rate(
            pool_id=self.pool_id, rate_bp=rate_bp, context=CommandContext(cause=CAUSE)
        )
        saturday, sunday = weekend
        terms = PlanTerms(base_price=price, weekday_prices={"sat": saturday, "sun": sunday})
        self.app.pricing.create_rate_plan(
            pool_id=self.pool_id, code="weekend", name="Weekend", terms=terms,
            context=CommandContext(cause=CAUSE),
        )  # fmt: skip
        self.books = Books()
        self.next_day = START.date()  # the facility's first day
        self.started = False  # whether a day was closed: the first may be any day since
        self.position = 0
        self.entries: list[Entry] = []
        self.sync()

    def sync(self) -> None:
        """Fold every new event through the posting rules, checking the books after each."""
        for notification in self.app.recorder.select_notifications(
            start=self.position + 1, limit=10_000
        ):
            event = self.app.mapper.to_domain_event(notification)
            assert isinstance(event, AggregateEvent)
            new = ledger.post(self.books, notification.id, event)
            for entry in new:
                assert sum(line.amount for line in entry.lines) == 0, entry
            for entry in new:
                tally(entry.kind)
            self.entries += new
            self.position = notification.id
            assert self.trial_balance() == 0
            assert all(b.balance(Account.DEFERRED) >= 0 for b in self.books.bookings.values())

    def attempt(self, command: Callable[[], object]) -> object | None:
        try:
            return command()
        except DomainError:
            return None
        finally:
            self.sync()

    def trial_balance(self) -> int:
        return sum(line.amount for entry in self.entries for line in entry.lines)

    def balance(self, account: Account) -> int:
        signed = sum(x.amount for e in self.entries for x in e.lines if x.account == account)
        return natural(account, signed)

    # -- rules -------------------------------------------------------------------

    @rule(
        target=bookings,
        first=st.integers(0, 2),
        nights=st.integers(1, 3),
        quantity=st.integers(1, 2),
        hours=st.sampled_from([1, 6, 24]),
        plan=st.sampled_from([DEFAULT_PLAN, "weekend"]),
    )
    def hold(
        self, first: int, nights: int, quantity: int, hours: int, plan: str = DEFAULT_PLAN
    ) -> UUID | None:
        today = self.clock.now.date()
        stay = Stay(today + timedelta(days=first), today + timedelta(days=first + nights))
        result = self.attempt(
            lambda: self.app.bookings.hold(
                pool_id=self.pool_id, stay=stay, quantity=quantity, guest={"name": "Ada"},
                hold_for=timedelta(hours=hours), rate_plan=plan,
                context=CommandContext(cause=CAUSE),
            )
        )  # fmt: skip
        return getattr(result, "id", None)

    @rule(
        target=bookings,
        first=st.integers(0, 2),
        nights=st.integers(1, 3),
        paid=st.booleans(),
        plan=st.sampled_from([DEFAULT_PLAN, "weekend"]),
    )
    def book(self, first: int, nights: int, paid: bool, plan: str) -> UUID | None:
        """Hold and confirm at once (and maybe pay the total): the common path."""
        booking_id = self.hold(first, nights, quantity=1, hours=1, plan=plan)
        if booking_id:
            self.confirm(booking_id)
            if paid:
                self.pay(booking_id, self.app.bookings.booking(booking_id).total)
        return booking_id

    @rule(booking_id=bookings)
    def confirm(self, booking_id: UUID | None) -> None:
        if booking_id:
            self.attempt(
                lambda: self.app.bookings.confirm(
                    booking_id=booking_id, context=CommandContext(cause=CAUSE)
                )
            )

    @rule(booking_id=bookings, nights=st.integers(1, 3), quantity=st.integers(1, 3))
    def amend(self, booking_id: UUID | None, nights: int, quantity: int) -> None:
        if booking_id:
            arrival = self.app.bookings.booking(booking_id).arrival
            self.attempt(
                lambda: self.app.bookings.amend(
                    booking_id=booking_id, departure=arrival + timedelta(days=nights),
                    quantity=quantity, context=CommandContext(cause=CAUSE),
                )
            )  # fmt: skip

    @rule(booking_id=bookings)
    def cancel(self, booking_id: UUID | None) -> None:
        if booking_id:
            self.attempt(
                lambda: self.app.bookings.cancel(
                    booking_id=booking_id, context=CommandContext(cause=CAUSE)
                )
            )

    @rule(booking_id=bookings, amount=st.integers(1, 20_000))
    def pay(self, booking_id: UUID | None, amount: int) -> None:
        if booking_id:
            self.attempt(
                lambda: self.app.bookings.record_payment(
                    booking_id=booking_id, amount=amount, currency="EUR", method="card",
                    context=CommandContext(cause=CAUSE),
                )
            )  # fmt: skip

    @rule(booking_id=bookings, share=st.integers(1, 100), settle=st.sampled_from([0, 1, 2]))
    def request_refund(self, booking_id: UUID | None, share: int, settle: int) -> None:
        if booking_id:
            refundable = self.app.bookings.booking(booking_id).refundable()
            amount = max(refundable * share // 100, 1)
            self.attempt(
                lambda: self.app.bookings.request_refund(
                    booking_id=booking_id,
                    amount=amount,
                    currency="EUR",
                    context=CommandContext(cause=CAUSE),
                )
            )
            if settle:  # at once: 1 succeeds, 2 fails
                self.settle_refund(booking_id, succeeded=settle == 1)

    @rule(booking_id=bookings, succeeded=st.booleans())
    def settle_refund(self, booking_id: UUID | None, succeeded: bool) -> None:
        if booking_id:
            for refund_id in list(self.app.bookings.booking(booking_id).pending_refunds):
                self.attempt(
                    lambda r=refund_id: self.app.bookings.settle_refund(  # type: ignore[misc]
                        booking_id=booking_id,
                        refund_id=r,
                        succeeded=succeeded,
                        context=CommandContext(cause=CAUSE),
                    )
                )

    @rule(booking_id=bookings, action=st.sampled_from(["check_in", "check_out", "record_no_show"]))
    def stay_happens(self, booking_id: UUID | None, action: str) -> None:
        if booking_id:
            command = getattr(self.app.bookings, action)
            self.attempt(
                lambda: command(booking_id=booking_id, context=CommandContext(cause=CAUSE))
            )

    @rule(booking_id=bookings)
    def expire(self, booking_id: UUID | None) -> None:
        if booking_id:
            self.attempt(
                lambda: self.app.bookings.expire(
                    booking_id=booking_id, context=CommandContext(cause=CAUSE)
                )
            )

    @rule(offset=st.sampled_from([0, 0, 0, -2, -1, 1]))
    def close_day(self, offset: int) -> None:
        """Close the next open day, or try another: once over, only the next one closes
        (the first close: any day since the facility was registered)."""
        day: date = self.next_day + timedelta(days=offset)
        closed = self.attempt(
            lambda: self.app.finance.close_day(
                facility_id=self.facility_id, business_date=day, context=CommandContext(cause=CAUSE)
            )
        )
        in_order = offset == 0 or (not self.started and day >= START.date())
        assert (closed is not None) == (in_order and day < self.clock.now.date())
        if closed is not None:
            self.started = True
            self.next_day = day + timedelta(days=1)

    @rule(booking_id=bookings, hours=st.integers(1, 30), hourly=st.integers(1, 500))
    def overstay(self, booking_id: UUID | None, hours: int, hourly: int) -> None:
        """A vehicle leaves late: the gate charges the overstay (as the gate commands do)."""
        if booking_id and self.app.bookings.booking(booking_id).status == Status.CONFIRMED:
            self.attempt(
                lambda: self.app.bookings.check_in(
                    booking_id=booking_id, context=CommandContext(cause=CAUSE)
                )
            )
        if booking_id and self.app.bookings.booking(booking_id).status in (
            Status.CHECKED_IN, Status.CHECKED_OUT
        ):  # fmt: skip
            booking = self.app.bookings.booking(booking_id)
            booking.charge_overstay(
                hours=hours, hourly=hourly, now=self.clock.now, cause=CAUSE.as_metadata()
            )
            self.app.save(booking)
            self.sync()

    @rule(pick=st.integers(0, 10_000))
    def reverse(self, pick: int) -> None:
        """Finance reverses an entry (each at most once): a money movement, an overstay
        charge, a recognition, or a reversal; a stay's own charges are corrected by
        amending or cancelling the booking, which the domain sees."""
        reversible = [e for e in self.entries if e.kind in REVERSIBLE]
        if reversible:
            entry = reversible[pick % len(reversible)]
            self.attempt(
                lambda: self.app.finance.reverse_entry(
                    facility_id=self.facility_id, entry_id=entry.entry_id, reason="wrong",
                    context=CommandContext(cause=CAUSE),
                )
            )  # fmt: skip

    @rule()
    def night_passes(self) -> None:
        """The clock moves to the next morning and the night audit closes the next day."""
        self.clock.now += timedelta(days=1)
        self.close_day(0)

    @rule(hours=st.sampled_from([2, 8, 24]))
    def time_passes(self, hours: int) -> None:
        self.clock.now += timedelta(hours=hours)

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def every_booking_owes_what_its_statement_and_the_domain_say(self) -> None:
        for booking_id, books in self.books.bookings.items():
            booking = self.app.bookings.booking(booking_id)
            expected = booking.balance_due()  # a hold is not charged, on either side
            said = statement(booking_id, self.entries)
            expected += said.corrections
            assert said.balance_due == books.due == expected, (booking.status, said)
            assert (said.receivable, said.refunds_payable) == (
                books.balance(Account.RECEIVABLE),
                books.balance(Account.REFUNDS_PAYABLE),
            )
            assert sum(books.balances.values()) == 0  # each booking's sub-ledger balances too

    @invariant()
    def deferred_revenue_is_never_negative_and_cash_is_paid_less_refunded(self) -> None:
        if not hasattr(self, "app"):
            return
        assert self.balance(Account.DEFERRED) >= 0
        bookings = [self.app.bookings.booking(b) for b in self.books.bookings]
        reversed_cash = sum(
            x.amount for e in self.entries if e.kind == "reversal" for x in e.lines
            if x.account == Account.CASH
        )  # fmt: skip
        assert (
            self.balance(Account.CASH) == sum(b.paid - b.refunded for b in bookings) + reversed_cash
        )

    @invariant()
    def a_recognising_booking_defers_what_its_open_nights_were_sold_at(self) -> None:
        if not hasattr(self, "app"):
            return
        closed = self.books.closed_days.get(self.facility_id, set())
        for booking_id, books in self.books.bookings.items():
            if books.status not in ledger.RECOGNISING:
                continue
            booking = self.app.bookings.booking(booking_id)
            sold = zip(booking.stay.days(), booking.night_prices, strict=True)
            earned = sum(price for day, price in sold if day in closed) * booking.quantity
            assert books.balance(Account.DEFERRED) == booking.total - earned, books

    @invariant()
    def a_booking_whose_nights_are_all_closed_defers_nothing(self) -> None:
        if not hasattr(self, "app"):
            return
        closed = self.books.closed_days.get(self.facility_id, set())
        for books in self.books.bookings.values():
            if all(night in closed for night in books.nights()):
                assert books.balance(Account.DEFERRED) == 0, books


LedgerMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
test_ledger_under_any_sequence_of_commands = LedgerMachine.TestCase
