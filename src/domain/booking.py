"""The booking aggregate and its lifecycle.

hold -> confirm -> (amend)* -> check in -> check out, with cancel, expire and
no-show on the side. Each transition checks its rule and records one event; any
transition not listed in `ALLOWED` is refused with `IllegalTransition`.
"""

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import MAX_QUANTITY, check_money, check_money_sum, check_text
from berth.domain.cache_copy import CheapCacheCopy
from berth.domain.cancellation import CancellationPolicy
from berth.domain.error import DomainError, InvalidCommand
from berth.domain.guest import check_guest, upcast_guest_v1_v2
from berth.domain.pricing import DEFAULT_PLAN, PlanTerms, night_prices_for
from berth.domain.stay import Stay, local_date


class Status(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    NO_SHOW = "no_show"


ALLOWED: dict[str, frozenset[Status]] = {
    "confirm": frozenset({Status.HELD}),
    "amend": frozenset({Status.HELD, Status.CONFIRMED}),
    "cancel": frozenset({Status.HELD, Status.CONFIRMED}),
    "expire": frozenset({Status.HELD}),
    "check_in": frozenset({Status.CONFIRMED}),
    "check_out": frozenset({Status.CHECKED_IN}),
    "no_show": frozenset({Status.CONFIRMED}),
}

# Statuses whose nights still hold capacity (a held booking only until it expires).
HOLDS_CAPACITY = frozenset({Status.HELD, Status.CONFIRMED, Status.CHECKED_IN, Status.CHECKED_OUT})


class IllegalTransition(DomainError):
    code = "illegal-transition"

    def __init__(self, *, action: str, status: str) -> None:
        super().__init__(f"cannot {action.replace('_', ' ')} a booking that is {status}")
        self.action = action
        self.status = status


class HoldExpired(DomainError):
    code = "hold-expired"


class HoldNotYetExpired(DomainError):
    code = "hold-not-expired"


class NotArrivalDay(DomainError):
    code = "not-arrival-day"


class InvalidQuantity(InvalidCommand):
    code = "invalid-quantity"


class CurrencyMismatch(InvalidCommand):
    code = "currency-mismatch"


class InvalidPayment(InvalidCommand):
    code = "invalid-payment"


class InvalidNightPrices(InvalidCommand):
    code = "invalid-night-prices"


class RefundExceedsPaid(DomainError):
    code = "refund-exceeds-paid"


class UnknownRefund(DomainError):
    code = "unknown-refund"


def check_quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(f"quantity must be 1 to {MAX_QUANTITY}, got {quantity}")
    return quantity


def stay_total(*, night_prices: Sequence[int], quantity: int) -> int:
    """The total of a stay priced night by night (a unit's price each night, times quantity)."""
    return check_money_sum(sum(night_prices) * quantity, what="the booking's total")


def check_night_prices(night_prices: Sequence[int], stay: Stay) -> list[int]:
    if len(night_prices) != stay.nights:
        raise InvalidNightPrices(f"{len(night_prices)} prices for a stay of {stay.nights} nights")
    return [check_money(price, what="a night's price") for price in night_prices]


# Statuses whose stay is charged: from confirmation on, and kept charged by a no-show.
CHARGES_STAY = frozenset({Status.CONFIRMED, Status.CHECKED_IN, Status.CHECKED_OUT, Status.NO_SHOW})


def charged(*, status: str, total: int, overstay_charged: int, cancellation_fee: int) -> int:
    """What a booking in `status` has been charged, as the ledger posts it.

    A hold is not charged yet and an expired hold never was: only an overstay
    (which a gate can charge whatever the status) counts. From confirmation on,
    the stay's total and any overstay are charged. A cancellation takes back
    everything but the cancellation fee.
    """
    if status == Status.CANCELLED:
        return cancellation_fee
    if status in CHARGES_STAY:
        return total + overstay_charged
    return overstay_charged


def balance_due(*, charges: int, paid: int, refunded: int) -> int:
    """What the guest owes: charged less paid plus refunded (negative: owed to the guest).

    The same figure as the ledger statement's balance due (the booking's
    receivable less its refunds payable), corrections by finance aside, which
    only the statement shows.
    """
    return charges - paid + refunded


class Booking(CheapCacheCopy, Aggregate):
    # Events replace the guest, plates and last passage rather than change them.
    _changed_in_place = ("pending_refunds",)

    # Not snapshotted (see Reservations.snapshotting_intervals): were it ever, its
    # snapshots would start in the version 2 guest shape and need no upcaster.

    class Held(recorded.Created):
        """Version 2: `guest` has `given_name` and `family_name` instead of `name`.

        Version 3: the `rate_plan` it was sold under and the price of each night
        for one unit (`night_prices`, in the stay's order); a version 2 hold was
        sold at the pool's nightly price every night, under the plan `default`.
        """

        class_version = 3

        reference: str
        facility_id: UUID
        pool_id: UUID
        channel: str
        arrival: date
        departure: date
        quantity: int
        guest: dict[str, str]
        plates: list[str]
        hold_expires_at: datetime
        nightly_price: int
        currency: str
        total: int
        time_zone: str
        cancellation: dict[str, int]
        rate_plan: str
        night_prices: list[int]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["guest"] = upcast_guest_v1_v2(state["guest"])

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            nights = (state["departure"] - state["arrival"]).days
            state["rate_plan"] = DEFAULT_PLAN
            state["night_prices"] = [state["nightly_price"]] * nights

    class Confirmed(recorded.Event):
        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.CONFIRMED

    class Amended(recorded.Event):
        """The booking's terms after the amendment, and the total before it.

        Version 2: `guest` has `given_name` and `family_name` instead of `name`.
        Version 3: `night_prices` of the stay after the amendment (None in older
        events: the booking's nightly price every night).
        """

        class_version = 3

        arrival: date
        departure: date
        quantity: int
        guest: dict[str, str]
        plates: list[str]
        total: int
        previous_total: int
        night_prices: list[int] | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["guest"] = upcast_guest_v1_v2(state["guest"])

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["night_prices"] = None

        def apply(self, aggregate: "Booking") -> None:
            nights = (self.departure - self.arrival).days
            aggregate.night_prices = (
                list(self.night_prices)
                if self.night_prices is not None
                else [aggregate.nightly_price] * nights
            )
            aggregate.arrival = self.arrival
            aggregate.departure = self.departure
            aggregate.quantity = self.quantity
            aggregate.guest = self.guest
            aggregate.plates = self.plates
            aggregate.total = self.total

    class Cancelled(recorded.Event):
        fee: int
        reason: str

        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.CANCELLED
            aggregate.cancellation_fee = self.fee

    class Expired(recorded.Event):
        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.EXPIRED

    class CheckedIn(recorded.Event):
        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.CHECKED_IN

    class CheckedOut(recorded.Event):
        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.CHECKED_OUT

    class NoShowRecorded(recorded.Event):
        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.NO_SHOW

    class PaymentRecorded(recorded.Event):
        payment_id: str
        amount: int
        currency: str
        method: str

        def apply(self, aggregate: "Booking") -> None:
            aggregate.paid += self.amount

    class RefundRequested(recorded.Event):
        refund_id: str
        amount: int
        currency: str
        reason: str

        def apply(self, aggregate: "Booking") -> None:
            aggregate.pending_refunds[self.refund_id] = self.amount

    class RefundSucceeded(recorded.Event):
        refund_id: str
        amount: int

        def apply(self, aggregate: "Booking") -> None:
            del aggregate.pending_refunds[self.refund_id]
            aggregate.refunded += self.amount

    class VehicleArrived(recorded.Event):
        """A gate read matched this booking on entry: the booking is checked in."""

        read_id: str
        gate_id: UUID
        plate: str
        captured_at: datetime

        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.CHECKED_IN
            aggregate.last_passage = {
                "gate_id": str(self.gate_id),
                "plate": self.plate,
                "captured_at": self.captured_at,
            }

    class VehicleDeparted(recorded.Event):
        """A gate read matched this booking on exit: the booking is checked out."""

        read_id: str
        gate_id: UUID
        plate: str
        captured_at: datetime

        def apply(self, aggregate: "Booking") -> None:
            aggregate.status = Status.CHECKED_OUT
            aggregate.last_passage = {
                "gate_id": str(self.gate_id),
                "plate": self.plate,
                "captured_at": self.captured_at,
            }

    class OverstayCharged(recorded.Event):
        """Further started hours past the stay, charged at the pool's tariff."""

        hours: int
        amount: int
        currency: str

        def apply(self, aggregate: "Booking") -> None:
            aggregate.overstay_hours += self.hours
            aggregate.overstay_charged += self.amount

    class RefundFailed(recorded.Event):
        refund_id: str
        amount: int
        reason: str

        def apply(self, aggregate: "Booking") -> None:
            del aggregate.pending_refunds[self.refund_id]

    def __init__(
        self,
        *,
        reference: str,
        facility_id: UUID,
        pool_id: UUID,
        channel: str,
        arrival: date,
        departure: date,
        quantity: int,
        guest: dict[str, str],
        plates: list[str],
        hold_expires_at: datetime,
        nightly_price: int,
        currency: str,
        total: int,
        time_zone: str,
        cancellation: dict[str, int],
        rate_plan: str,
        night_prices: list[int],
    ) -> None:
        self.rate_plan = rate_plan
        self.night_prices = list(night_prices)
        self.reference = reference
        self.facility_id = facility_id
        self.pool_id = pool_id
        self.channel = channel
        self.arrival = arrival
        self.departure = departure
        self.quantity = quantity
        self.guest = guest
        self.plates = plates
        self.hold_expires_at = hold_expires_at
        self.nightly_price = nightly_price
        self.currency = currency
        self.total = total
        self.time_zone = time_zone
        self.cancellation = cancellation
        self.status = Status.HELD
        self.cancellation_fee = 0
        self.paid = 0
        self.refunded = 0
        self.pending_refunds: dict[str, int] = {}
        self.overstay_hours = 0
        self.overstay_charged = 0
        self.last_passage: dict[str, Any] | None = None

    # -- queries -------------------------------------------------------------

    @property
    def stay(self) -> Stay:
        return Stay(self.arrival, self.departure)

    def charges(self) -> int:
        """What the booking has been charged so far (see `charged`)."""
        return charged(
            status=self.status,
            total=self.total,
            overstay_charged=self.overstay_charged,
            cancellation_fee=self.cancellation_fee,
        )

    def balance_due(self) -> int:
        """What the guest owes now (see `balance_due`); negative: owed to the guest."""
        return balance_due(charges=self.charges(), paid=self.paid, refunded=self.refunded)

    def refundable(self) -> int:
        return self.paid - self.refunded - sum(self.pending_refunds.values())

    def is_live_hold(self, now: datetime) -> bool:
        return self.status == Status.HELD and now < self.hold_expires_at

    # -- commands --------------------------------------------------------------

    @classmethod
    def hold(
        cls,
        *,
        booking_id: UUID,
        reference: str,
        facility_id: UUID,
        pool_id: UUID,
        channel: str,
        stay: Stay,
        quantity: int,
        guest: dict[str, str],
        plates: list[str],
        hold_expires_at: datetime,
        nightly_price: int,
        currency: str,
        time_zone: str,
        cancellation: CancellationPolicy,
        now: datetime,
        cause: dict[str, str],
        rate_plan: str = DEFAULT_PLAN,
        night_prices: Sequence[int] | None = None,
    ) -> "Booking":
        """Held at `night_prices` (one unit, each night), or `nightly_price` every night."""
        stay.check_not_in_past(now=now, time_zone=time_zone)
        prices = check_night_prices(
            [nightly_price] * stay.nights if night_prices is None else night_prices, stay
        )
        return cls._create(
            cls.Held,
            id=booking_id,
            timestamp=now,
            cause=cause,
            reference=reference,
            facility_id=facility_id,
            pool_id=pool_id,
            channel=channel,
            arrival=stay.arrival,
            departure=stay.departure,
            quantity=check_quantity(quantity),
            guest=check_guest(guest),
            plates=[p.strip() for p in plates if p.strip()],
            hold_expires_at=hold_expires_at,
            nightly_price=nightly_price,
            currency=currency,
            total=stay_total(night_prices=prices, quantity=quantity),
            time_zone=time_zone,
            cancellation=cancellation.as_dict(),
            rate_plan=rate_plan,
            night_prices=prices,
        )

    def _check(self, action: str) -> None:
        if Status(self.status) not in ALLOWED[action]:
            raise IllegalTransition(action=action, status=self.status)

    def _record(self, event_class: type[recorded.Event], now: datetime, **kwargs: Any) -> None:
        self.trigger_event(event_class, timestamp=now, **kwargs)

    def confirm(self, *, now: datetime, cause: dict[str, str]) -> None:
        self._check("confirm")
        if not self.is_live_hold(now):
            raise HoldExpired(f"the hold expired at {self.hold_expires_at.isoformat()}")
        self._record(self.Confirmed, now, cause=cause)

    def amend(
        self,
        *,
        stay: Stay,
        quantity: int,
        guest: dict[str, str],
        plates: list[str],
        now: datetime,
        cause: dict[str, str],
        terms: PlanTerms | None = None,
    ) -> None:
        """Nights the booking keeps keep their price; added ones are priced by `terms`.

        Without `terms` (the plan `default`), added nights are at the booking's nightly price.
        """
        self._check("amend")
        if self.status == Status.HELD and not self.is_live_hold(now):
            raise HoldExpired(f"the hold expired at {self.hold_expires_at.isoformat()}")
        if stay != self.stay:
            stay.check_not_in_past(now=now, time_zone=self.time_zone)
        prices = night_prices_for(
            nights=stay.days(),
            agreed=dict(zip(self.stay.days(), self.night_prices, strict=True)),
            terms=terms,
            fallback=self.nightly_price,
        )
        self._record(
            self.Amended,
            now,
            cause=cause,
            arrival=stay.arrival,
            departure=stay.departure,
            quantity=check_quantity(quantity),
            guest=check_guest(guest),
            plates=[p.strip() for p in plates if p.strip()],
            total=stay_total(night_prices=prices, quantity=quantity),
            previous_total=self.total,
            night_prices=prices,
        )

    def cancel(self, *, reason: str, now: datetime, cause: dict[str, str]) -> None:
        self._check("cancel")
        check_text(reason, what="a reason", multiline=True)
        fee = self.cancellation_fee_at(now)
        self._record(self.Cancelled, now, cause=cause, fee=fee, reason=reason)

    def cancellation_fee_at(self, now: datetime) -> int:
        """The fee a cancellation at `now` charges (a hold's costs nothing): what staff
        are shown before they confirm a cancellation."""
        if self.status != Status.CONFIRMED:
            return 0
        return CancellationPolicy(**self.cancellation).fee(
            total=self.total, arrival=self.arrival, time_zone=self.time_zone, now=now
        )

    def expire(self, *, now: datetime, cause: dict[str, str]) -> None:
        self._check("expire")
        if now < self.hold_expires_at:
            raise HoldNotYetExpired(f"the hold runs until {self.hold_expires_at.isoformat()}")
        self._record(self.Expired, now, cause=cause)

    def check_in(self, *, now: datetime, cause: dict[str, str]) -> None:
        self._check("check_in")
        today = local_date(now, self.time_zone)
        if not self.arrival <= today <= self.departure:
            raise NotArrivalDay(
                f"check-in is possible from {self.arrival} to {self.departure}, today is {today}"
            )
        self._record(self.CheckedIn, now, cause=cause)

    def check_out(self, *, now: datetime, cause: dict[str, str]) -> None:
        self._check("check_out")
        self._record(self.CheckedOut, now, cause=cause)

    def record_no_show(self, *, now: datetime, cause: dict[str, str]) -> None:
        self._check("no_show")
        today = local_date(now, self.time_zone)
        if today < self.arrival:
            raise NotArrivalDay(f"a no-show can be recorded from {self.arrival}, not {today}")
        self._record(self.NoShowRecorded, now, cause=cause)

    def record_payment(
        self,
        *,
        payment_id: str,
        amount: int,
        currency: str,
        method: str,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        if amount <= 0:
            raise InvalidPayment(f"a payment must be positive, got {amount}")
        check_money(amount, what="a payment")
        check_text(payment_id, what="a payment id", maximum=200)
        check_text(method, what="a payment method", maximum=200)
        self._check_currency(currency)
        check_money_sum(self.paid + amount, what="paid on this booking")
        self._record(
            self.PaymentRecorded,
            now,
            cause=cause,
            payment_id=payment_id,
            amount=amount,
            currency=currency,
            method=method,
        )

    def request_refund(
        self,
        *,
        refund_id: str,
        amount: int,
        currency: str,
        reason: str,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        if amount <= 0:
            raise InvalidPayment(f"a refund must be positive, got {amount}")
        check_money(amount, what="a refund")
        check_text(refund_id, what="a refund id", maximum=200)
        check_text(reason, what="a reason", multiline=True)
        self._check_currency(currency)
        if amount > self.refundable():
            raise RefundExceedsPaid(f"{amount} asked, {self.refundable()} can be refunded")
        self._record(
            self.RefundRequested,
            now,
            cause=cause,
            refund_id=refund_id,
            amount=amount,
            currency=currency,
            reason=reason,
        )

    def settle_refund(
        self,
        *,
        refund_id: str,
        succeeded: bool,
        reason: str,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        check_text(reason, what="a reason", multiline=True)
        if refund_id not in self.pending_refunds:
            raise UnknownRefund(f"no pending refund {refund_id!r} on this booking")
        amount = self.pending_refunds[refund_id]
        if succeeded:
            self._record(self.RefundSucceeded, now, cause=cause, refund_id=refund_id, amount=amount)
        else:
            self._record(
                self.RefundFailed,
                now,
                cause=cause,
                refund_id=refund_id,
                amount=amount,
                reason=reason,
            )

    def record_arrival(
        self,
        *,
        read_id: str,
        gate_id: UUID,
        plate: str,
        captured_at: datetime,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        self._check("check_in")
        self._record(
            self.VehicleArrived,
            now,
            cause=cause,
            read_id=read_id,
            gate_id=gate_id,
            plate=plate,
            captured_at=captured_at,
        )

    def record_departure(
        self,
        *,
        read_id: str,
        gate_id: UUID,
        plate: str,
        captured_at: datetime,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        if Status(self.status) not in {Status.CHECKED_IN, Status.CONFIRMED}:
            raise IllegalTransition(action="record_departure", status=self.status)
        self._record(
            self.VehicleDeparted,
            now,
            cause=cause,
            read_id=read_id,
            gate_id=gate_id,
            plate=plate,
            captured_at=captured_at,
        )

    def record_passage(
        self,
        *,
        direction: str,
        read_id: str,
        gate_id: UUID,
        plate: str,
        captured_at: datetime,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        """An arrival through an entry gate, a departure through an exit gate."""
        record = self.record_arrival if direction == "entry" else self.record_departure
        record(
            read_id=read_id,
            gate_id=gate_id,
            plate=plate,
            captured_at=captured_at,
            now=now,
            cause=cause,
        )

    def charge_overstay(
        self, *, hours: int, hourly: int, now: datetime, cause: dict[str, str]
    ) -> None:
        if hours > 0:
            amount = hours * hourly
            check_money_sum(
                self.total + self.overstay_charged + amount, what="the booking's charges"
            )
            self._record(
                self.OverstayCharged,
                now,
                cause=cause,
                hours=hours,
                amount=amount,
                currency=self.currency,
            )

    def _check_currency(self, currency: str) -> None:
        if currency != self.currency:
            raise CurrencyMismatch(f"this booking is in {self.currency}, not {currency}")
