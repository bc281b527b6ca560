"""The capacity rule under any sequence of commands, checked against a model.

A small pool (capacity 0 to 5), stays of 1 to 3 nights in a window of 5
arrival days, and a clock that moves so holds expire. After every step, for
every night: what the write side counts as sold is what the model's bookings
say (confirmed, checked in or out, or held and not yet expired) and never
more than the night's capacity. Every refusal is the named domain error the
model predicts, and stores nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from berth.domain.application import Reservations
from berth.domain.booking import (
    HoldExpired,
    HoldNotYetExpired,
    IllegalTransition,
    NotArrivalDay,
    Status,
)
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.error import DomainError, InvalidCommand, NotFound
from berth.domain.inventory import CapacityBelowSold, NoCapacity
from berth.domain.stay import Stay, StayInPast

START = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)  # the facility is in UTC: local date = UTC date
TODAY = START.date()
ARRIVAL_DAYS = 5
MAX_NIGHTS = 3
NIGHTS = [TODAY + timedelta(days=n) for n in range(ARRIVAL_DAYS + MAX_NIGHTS + 1)]
CAUSE = Cause(principal="hypothesis", channel="test", request_id="r", correlation_id="c")
HOLDING = frozenset({Status.CONFIRMED, Status.CHECKED_IN, Status.CHECKED_OUT})

arrival_days = st.integers(0, ARRIVAL_DAYS - 1)
stay_lengths = st.integers(1, MAX_NIGHTS)
quantities = st.integers(1, 2)
capacities = st.sampled_from(range(6))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Model:
    """What the machine believes about one booking."""

    status: Status
    arrival: date
    departure: date
    quantity: int
    expires_at: datetime

    @property
    def nights(self) -> list[date]:
        return Stay(self.arrival, self.departure).days()

    def holds_capacity(self, now: datetime) -> bool:
        return self.status in HOLDING or (self.status == Status.HELD and now < self.expires_at)


class CapacityMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    @initialize(capacity=capacities)
    def open_pool(self, capacity: int) -> None:
        self.clock = Clock(START)
        self.app = Reservations({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=self.clock)
        facility = self.app.catalogue.register_facility(
            name="Marina", time_zone="UTC", context=CommandContext(cause=CAUSE)
        )
        self.pool_id = self.app.catalogue.add_pool(
            facility_id=facility.id,
            name="Berths",
            capacity=capacity,
            nightly_price=100,
            currency="EUR",
            context=CommandContext(cause=CAUSE),
        ).id
        self.capacity = dict.fromkeys(NIGHTS, capacity)
        self.model: dict[UUID, Model] = {}

    # -- the model -----------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now

    @property
    def today(self) -> date:
        return self.clock.now.date()

    def model_sold(self, night: date, excluding: UUID | None = None) -> int:
        return sum(
            b.quantity
            for booking_id, b in self.model.items()
            if booking_id != excluding and b.holds_capacity(self.now) and night in b.nights
        )

    def fits(self, nights: list[date], quantity: int, excluding: UUID | None = None) -> bool:
        return all(self.model_sold(n, excluding) + quantity <= self.capacity[n] for n in nights)

    def run(self, expected: type[DomainError] | None, command: Callable[[], object]) -> bool:
        """Run `command`: True if it went through; a refusal must be `expected`, storing nothing."""
        before = self.app.recorder.max_notification_id()
        try:
            command()
        except DomainError as error:
            assert type(error) not in (DomainError, InvalidCommand, NotFound), repr(error)
            assert expected is not None, f"refused with {error!r}, the model expected success"
            assert isinstance(error, expected), f"refused with {error!r}, expected {expected}"
            assert self.app.recorder.max_notification_id() == before, "a refusal stored events"
            return False
        assert expected is None, f"went through, the model expected {expected.__name__}"
        assert self.app.recorder.max_notification_id() > before  # type: ignore[operator]
        return True

    # -- rules ---------------------------------------------------------------

    @rule(
        target=bookings,
        first=arrival_days,
        nights=stay_lengths,
        quantity=quantities,
        minutes=st.sampled_from([1, 5, 15, 30]),
    )
    def hold(self, first: int, nights: int, quantity: int, minutes: int) -> object:
        stay = Stay(NIGHTS[first], NIGHTS[first + nights])
        expected: type[DomainError] | None = None
        if stay.arrival < self.today:
            expected = StayInPast
        elif not self.fits(stay.days(), quantity):
            expected = NoCapacity
        results = []
        if self.run(
            expected,
            lambda: results.append(
                self.app.bookings.hold(
                    pool_id=self.pool_id,
                    stay=stay,
                    quantity=quantity,
                    guest={"name": "Ada"},
                    hold_for=timedelta(minutes=minutes),
                    context=CommandContext(cause=CAUSE),
                )
            ),
        ):
            booking_id = results[0].id
            self.model[booking_id] = Model(
                status=Status.HELD,
                arrival=stay.arrival,
                departure=stay.departure,
                quantity=quantity,
                expires_at=self.now + timedelta(minutes=minutes),
            )
            return booking_id
        return multiple()

    @rule(booking_id=bookings)
    def confirm(self, booking_id: UUID) -> None:
        b = self.model[booking_id]
        expected: type[DomainError] | None = None
        if b.status != Status.HELD:
            expected = IllegalTransition
        elif self.now >= b.expires_at:
            expected = HoldExpired
        if self.run(
            expected,
            lambda: self.app.bookings.confirm(
                booking_id=booking_id, context=CommandContext(cause=CAUSE)
            ),
        ):
            b.status = Status.CONFIRMED

    @rule(
        booking_id=bookings,
        first=arrival_days,
        nights=stay_lengths,
        quantity=quantities,
        change=st.sampled_from(["dates", "quantity", "both"]),
    )
    def amend(self, booking_id: UUID, first: int, nights: int, quantity: int, change: str) -> None:
        b = self.model[booking_id]
        stay = Stay(NIGHTS[first], NIGHTS[first + nights])
        if change == "quantity":
            stay = Stay(b.arrival, b.departure)
        if change == "dates":
            quantity = b.quantity
        expected: type[DomainError] | None = None
        if b.status not in (Status.HELD, Status.CONFIRMED):
            expected = IllegalTransition
        elif b.status == Status.HELD and self.now >= b.expires_at:
            expected = HoldExpired
        elif stay != Stay(b.arrival, b.departure) and stay.arrival < self.today:
            expected = StayInPast
        elif (stay.days() != b.nights or quantity != b.quantity) and not self.fits(
            stay.days(), quantity, excluding=booking_id
        ):
            expected = NoCapacity
        options: dict[str, object] = {}
        if change != "quantity":
            options.update(arrival=stay.arrival, departure=stay.departure)
        if change != "dates":
            options.update(quantity=quantity)
        if self.run(
            expected,
            lambda: self.app.bookings.amend(
                booking_id=booking_id, context=CommandContext(cause=CAUSE), **options
            ),  # type: ignore[arg-type]
        ):
            b.arrival, b.departure, b.quantity = stay.arrival, stay.departure, quantity

    @rule(booking_id=bookings)
    def cancel(self, booking_id: UUID) -> None:
        b = self.model[booking_id]
        expected = None if b.status in (Status.HELD, Status.CONFIRMED) else IllegalTransition
        if self.run(
            expected,
            lambda: self.app.bookings.cancel(
                booking_id=booking_id, context=CommandContext(cause=CAUSE)
            ),
        ):
            b.status = Status.CANCELLED

    @rule(booking_id=bookings)
    def expire(self, booking_id: UUID) -> None:
        b = self.model[booking_id]
        expected: type[DomainError] | None = None
        if b.status != Status.HELD:
            expected = IllegalTransition
        elif self.now < b.expires_at:
            expected = HoldNotYetExpired
        if self.run(
            expected,
            lambda: self.app.bookings.expire(
                booking_id=booking_id, context=CommandContext(cause=CAUSE)
            ),
        ):
            b.status = Status.EXPIRED

    @rule(booking_id=bookings)
    def record_no_show(self, booking_id: UUID) -> None:
        b = self.model[booking_id]
        expected: type[DomainError] | None = None
        if b.status != Status.CONFIRMED:
            expected = IllegalTransition
        elif self.today < b.arrival:
            expected = NotArrivalDay
        if self.run(
            expected,
            lambda: self.app.bookings.record_no_show(
                booking_id=booking_id, context=CommandContext(cause=CAUSE)
            ),
        ):
            b.status = Status.NO_SHOW

    @rule(booking_id=bookings)
    def check_in(self, booking_id: UUID) -> None:
        b = self.model[booking_id]
        expected: type[DomainError] | None = None
        if b.status != Status.CONFIRMED:
            expected = IllegalTransition
        elif not b.arrival <= self.today <= b.departure:
            expected = NotArrivalDay
        if self.run(
            expected,
            lambda: self.app.bookings.check_in(
                booking_id=booking_id, context=CommandContext(cause=CAUSE)
            ),
        ):
            b.status = Status.CHECKED_IN

    @rule(booking_id=bookings)
    def check_out(self, booking_id: UUID) -> None:
        b = self.model[booking_id]
        expected = None if b.status == Status.CHECKED_IN else IllegalTransition
        if self.run(
            expected,
            lambda: self.app.bookings.check_out(
                booking_id=booking_id, context=CommandContext(cause=CAUSE)
            ),
        ):
            b.status = Status.CHECKED_OUT

    # The rules above pick any booking, so most of their tries are refused; these
    # pick a booking in the status their command needs, so the legal paths run often.

    def in_status(self, *statuses: Status) -> list[UUID]:
        return [booking_id for booking_id, b in self.model.items() if b.status in statuses]

    @precondition(lambda self: self.in_status(Status.HELD))
    @rule(data=st.data())
    def confirm_a_hold(self, data: st.DataObject) -> None:
        self.confirm(data.draw(st.sampled_from(self.in_status(Status.HELD))))

    @precondition(lambda self: self.in_status(Status.CONFIRMED))
    @rule(data=st.data(), end=st.sampled_from(["record_no_show", "cancel"]))
    def end_a_confirmed_booking(self, data: st.DataObject, end: str) -> None:
        getattr(self, end)(data.draw(st.sampled_from(self.in_status(Status.CONFIRMED))))

    def arriving(self) -> list[UUID]:
        return [
            booking_id
            for booking_id in self.in_status(Status.CONFIRMED)
            if self.model[booking_id].arrival <= self.today <= self.model[booking_id].departure
        ]

    @precondition(lambda self: self.arriving())
    @rule(data=st.data())
    def check_in_an_arrival(self, data: st.DataObject) -> None:
        self.check_in(data.draw(st.sampled_from(self.arriving())))

    def lapsed(self) -> list[UUID]:
        held = self.in_status(Status.HELD)
        return [booking_id for booking_id in held if self.model[booking_id].expires_at <= self.now]

    @precondition(lambda self: self.lapsed())
    @rule(data=st.data())
    def expire_a_lapsed_hold(self, data: st.DataObject) -> None:
        self.expire(data.draw(st.sampled_from(self.lapsed())))

    @precondition(lambda self: self.in_status(Status.CHECKED_IN))
    @rule(data=st.data())
    def check_out_a_guest(self, data: st.DataObject) -> None:
        self.check_out(data.draw(st.sampled_from(self.in_status(Status.CHECKED_IN))))

    @rule(minutes=st.sampled_from([1, 5, 15, 16, 60, 720, 1440]))
    def advance_clock(self, minutes: int) -> None:
        self.clock.now += timedelta(minutes=minutes)

    @rule(first=st.integers(0, len(NIGHTS) - 1), length=st.integers(1, 3), capacity=capacities)
    def change_capacity(self, first: int, length: int, capacity: int) -> None:
        nights = NIGHTS[first : first + length]
        expected = None
        if any(self.model_sold(n) > capacity for n in nights):
            expected = CapacityBelowSold
        if self.run(
            expected,
            lambda: self.app.catalogue.change_capacity(
                pool_id=self.pool_id,
                first_night=nights[0],
                last_night=nights[-1],
                capacity=capacity,
                context=CommandContext(cause=CAUSE),
            ),
        ):
            self.capacity.update(dict.fromkeys(nights, capacity))

    # -- invariants ----------------------------------------------------------

    @invariant()
    def no_night_is_oversold_and_sold_is_what_the_bookings_say(self) -> None:
        for night in NIGHTS:
            sold = self.app.catalogue.sold(self.pool_id, night)
            assert sold <= self.capacity[night], f"{night}: {sold} sold of {self.capacity[night]}"
            assert sold == self.model_sold(night), f"{night}: {sold}, the bookings say otherwise"
            inventory = self.app.catalogue.night_inventory(self.pool_id, night)
            if inventory is not None:
                assert inventory.capacity == self.capacity[night]

    @invariant()
    def every_booking_is_where_the_model_says(self) -> None:
        for booking_id, b in self.model.items():
            booking = self.app.bookings.booking(booking_id)
            assert booking.status == b.status
            assert (booking.arrival, booking.departure, booking.quantity) == (
                b.arrival,
                b.departure,
                b.quantity,
            )


CapacityMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=30, deadline=None
)
test_capacity_state_machine = CapacityMachine.TestCase
