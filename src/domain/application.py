"""The command side: Berth's eventsourcing Application.

Every command is one transaction that saves every aggregate it touched, with
optimistic concurrency; conflicts are retried a bounded number of times. The
clock, the reference generator and the night lock are injected.
"""

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from berth.domain import barrier
from berth.domain.booking import Booking
from berth.domain.business_day import BusinessDay, DayAlreadyClosed, business_day_id
from berth.domain.cancellation import CancellationPolicy
from berth.domain.cause import Cause
from berth.domain.correction import EntryAlreadyReversed, EntryReversal, reversal_id
from berth.domain.error import DomainError, InvalidCommand, NotFound
from berth.domain.facility import Facility
from berth.domain.gate import Gate
from berth.domain.inventory import NightInventory, inventory_id
from berth.domain.locking import NightLock, no_lock
from berth.domain.plate_read import PlateRead, plate_read_id
from berth.domain.pool import Pool, check_capacity
from berth.domain.reference import BookingReference, new_reference, reference_id
from berth.domain.stay import MAX_NIGHTS, DatesOutOfOrder, Stay
from berth.domain.transcodings import DateAsISO

Clock = Callable[[], datetime]
A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 6
DEFAULT_HOLD = timedelta(minutes=15)
MAX_HOLD = timedelta(hours=24)


class TooManyConflicts(DomainError):
    code = "too-many-conflicts"


class StaleVersion(DomainError):
    code = "stale-version"

    def __init__(self, *, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, the resource is at version {actual}")
        self.expected = expected
        self.actual = actual


class UnknownFacility(NotFound):
    code = "unknown-facility"


class UnknownPool(NotFound):
    code = "unknown-pool"


class UnknownBooking(NotFound):
    code = "unknown-booking"


class InvalidHoldTime(InvalidCommand):
    code = "invalid-hold-time"


class UnknownGate(NotFound):
    code = "unknown-gate"


class UnknownRead(NotFound):
    code = "unknown-read"


@dataclass(frozen=True)
class ReadOutcome:
    """The barrier decision for a plate read; `duplicate` when the read was already stored."""

    read_id: str
    open: bool
    reason: str
    booking_id: UUID | None
    duplicate: bool
    position: int


@dataclass(frozen=True)
class CommandResult:
    """The aggregate a command acted on, its new version, and its last event's position.

    `subject` is that aggregate as the command left it, so a caller can show it
    without reading it back.
    """

    id: UUID
    version: int
    position: int
    subject: Aggregate | None = field(default=None, compare=False, repr=False)


class Reservations(Application[UUID]):
    name = "Berth"
    snapshotting_intervals = {NightInventory: 50}
    env = {
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock,
        night_lock: NightLock = no_lock,
        make_reference: Callable[[], str] = new_reference,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.night_lock = night_lock
        self.make_reference = make_reference

    def close(self) -> None:
        super().close()
        close_lock = getattr(self.night_lock, "close", None)
        if callable(close_lock):
            close_lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- facilities and pools ------------------------------------------------

    def register_facility(
        self, *, name: str, time_zone: str, cause: Cause, **save_kwargs: Any
    ) -> CommandResult:
        facility = Facility.register(
            facility_id=uuid4(),
            name=name,
            time_zone=time_zone,
            now=self.clock(),
            cause=cause.as_metadata(),
        )
        return self._result(facility, self.save(facility, **save_kwargs))

    def add_pool(
        self,
        *,
        facility_id: UUID,
        name: str,
        capacity: int,
        nightly_price: int,
        currency: str,
        cancellation: CancellationPolicy | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        pool_id = uuid4()

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.facility(facility_id)
            pool = Pool.add(
                pool_id=pool_id,
                facility_id=facility.id,
                time_zone=facility.time_zone,
                name=name,
                capacity=capacity,
                nightly_price=nightly_price,
                currency=currency,
                cancellation=cancellation or CancellationPolicy(),
                now=now,
                cause=meta,
            )
            # One currency per facility: the first pool's, recorded in the same transaction.
            facility.adopt_currency(currency=pool.currency, now=now, cause=meta)
            return pool, [pool, facility]

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    def change_capacity(
        self,
        *,
        pool_id: UUID,
        first_night: date,
        last_night: date,
        capacity: int,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        """Set the capacity of every night from `first_night` to `last_night` inclusive."""
        check_capacity(capacity)  # before any night compares it with what is sold
        if last_night < first_night:
            raise DatesOutOfOrder(f"last night {last_night} is before first night {first_night}")
        nights = Stay(first_night, last_night + timedelta(days=1)).days()
        if len(nights) > MAX_NIGHTS:
            raise DatesOutOfOrder(f"a capacity change covers at most {MAX_NIGHTS} nights")

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.pool(pool_id)
            self._check_version(pool, expected_version)
            inventories = self._inventories(pool, nights, now, meta)
            for inventory in inventories:
                inventory.set_capacity(capacity=capacity, now=now, cause=meta)
            pool.record_capacity_change(
                first_night=first_night,
                last_night=last_night,
                capacity=capacity,
                now=now,
                cause=meta,
            )
            return pool, [pool, *inventories]

        keys = [inventory_id(pool_id, n) for n in nights]
        return self._execute(attempt, cause, lock=keys, **save_kwargs)

    def set_tax_rate(
        self, *, pool_id: UUID, rate_bp: int, cause: Cause, **save_kwargs: Any
    ) -> CommandResult:
        """The tax included in the pool's prices from now on, in basis points."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.pool(pool_id)
            pool.set_tax_rate(rate_bp=rate_bp, now=now, cause=meta)
            return pool, [pool]

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    # -- finance -----------------------------------------------------------------

    def close_day(
        self, *, facility_id: UUID, business_date: date, cause: Cause, **save_kwargs: Any
    ) -> CommandResult:
        """Night audit: close a facility's business day, once; never a day not yet over."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.facility(facility_id)
            if self._exists(business_day_id(facility_id, business_date)):
                raise DayAlreadyClosed(f"{business_date} is already closed at this facility")
            day = BusinessDay.close(
                facility_id=facility.id,
                business_date=business_date,
                time_zone=facility.time_zone,
                now=now,
                cause=meta,
            )
            return day, [day]

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    def reverse_entry(
        self,
        *,
        facility_id: UUID,
        entry_id: UUID,
        reason: str,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        """Record that a ledger entry is reversed (at most once); the ledger posts the reversal."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.facility(facility_id)
            if self._exists(reversal_id(entry_id)):
                raise EntryAlreadyReversed(f"entry {entry_id} is already reversed")
            reversal = EntryReversal.record(
                facility_id=facility.id, entry_id=entry_id, reason=reason, now=now, cause=meta
            )
            return reversal, [reversal]

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    # -- bookings --------------------------------------------------------------

    def hold(
        self,
        *,
        pool_id: UUID,
        stay: Stay,
        quantity: int,
        guest: dict[str, str],
        plates: Sequence[str] = (),
        hold_for: timedelta = DEFAULT_HOLD,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        if not timedelta(minutes=1) <= hold_for <= MAX_HOLD:
            raise InvalidHoldTime(f"a hold lasts from 1 minute to {MAX_HOLD}, not {hold_for}")
        booking_id = uuid4()

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.pool(pool_id)
            reference = self.make_reference()  # a fresh one on each try: a clash is a conflict
            expires_at = now + hold_for
            booking = Booking.hold(
                booking_id=booking_id,
                reference=reference,
                facility_id=pool.facility_id,
                pool_id=pool.id,
                channel=cause.channel,
                stay=stay,
                quantity=quantity,
                guest=guest,
                plates=list(plates),
                hold_expires_at=expires_at,
                nightly_price=pool.nightly_price,
                currency=pool.currency,
                time_zone=pool.time_zone,
                cancellation=pool.cancellation_policy,
                now=now,
                cause=meta,
            )
            inventories = self._inventories(pool, stay.days(), now, meta)
            for inventory in inventories:
                inventory.allocate(
                    booking_id=booking_id,
                    quantity=quantity,
                    expires_at=expires_at,
                    now=now,
                    cause=meta,
                )
            claim = BookingReference.claim(
                reference=reference, booking_id=booking_id, now=now, cause=meta
            )
            return booking, [booking, claim, *inventories]

        keys = [inventory_id(pool_id, night) for night in stay.days()]
        return self._execute(attempt, cause, lock=keys, **save_kwargs)

    def confirm(
        self,
        *,
        booking_id: UUID,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, expected_version)
            booking.confirm(now=now, cause=meta)
            inventories = self._existing_inventories(booking.pool_id, booking.stay.days())
            for inventory in inventories:
                inventory.firm(
                    booking_id=booking.id, quantity=booking.quantity, now=now, cause=meta
                )
            return booking, [booking, *inventories]

        return self._execute(attempt, cause, lock=self._booking_keys(booking_id), **save_kwargs)

    def amend(
        self,
        *,
        booking_id: UUID,
        arrival: date | None = None,
        departure: date | None = None,
        quantity: int | None = None,
        guest: dict[str, str] | None = None,
        plates: Sequence[str] | None = None,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, expected_version)
            old_nights = set(booking.stay.days())
            old_quantity = booking.quantity
            stay = Stay(arrival or booking.arrival, departure or booking.departure)
            booking.amend(
                stay=stay,
                quantity=booking.quantity if quantity is None else quantity,
                guest=booking.guest if guest is None else guest,
                plates=booking.plates if plates is None else list(plates),
                now=now,
                cause=meta,
            )
            touched: list[Aggregate] = [booking]
            new_nights = set(stay.days())
            if new_nights != old_nights or booking.quantity != old_quantity:
                pool = self.pool(booking.pool_id)
                expires_at = booking.hold_expires_at if booking.status == "held" else None
                for inventory in self._inventories(pool, sorted(new_nights), now, meta):
                    inventory.allocate(
                        booking_id=booking.id,
                        quantity=booking.quantity,
                        expires_at=expires_at,
                        now=now,
                        cause=meta,
                    )
                    touched.append(inventory)
                for inventory in self._existing_inventories(
                    booking.pool_id, sorted(old_nights - new_nights)
                ):
                    inventory.release(booking_id=booking.id, now=now, cause=meta)
                    touched.append(inventory)
            return booking, touched

        lock = self._booking_keys(booking_id)
        if arrival or departure:
            booking = self.booking(booking_id)
            new_stay = Stay(arrival or booking.arrival, departure or booking.departure)
            lock += [inventory_id(booking.pool_id, night) for night in new_stay.days()]
        return self._execute(attempt, cause, lock=lock, **save_kwargs)

    def cancel(
        self,
        *,
        booking_id: UUID,
        reason: str = "",
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        return self._end_booking(
            booking_id,
            expected_version,
            cause,
            lambda booking, now, meta: booking.cancel(reason=reason, now=now, cause=meta),
            **save_kwargs,
        )

    def expire(self, *, booking_id: UUID, cause: Cause, **save_kwargs: Any) -> CommandResult:
        return self._end_booking(
            booking_id,
            None,
            cause,
            lambda booking, now, meta: booking.expire(now=now, cause=meta),
            **save_kwargs,
        )

    def record_no_show(
        self,
        *,
        booking_id: UUID,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        return self._end_booking(
            booking_id,
            expected_version,
            cause,
            lambda booking, now, meta: booking.record_no_show(now=now, cause=meta),
            **save_kwargs,
        )

    def check_in(
        self,
        *,
        booking_id: UUID,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        return self._change_booking(
            booking_id,
            expected_version,
            cause,
            lambda booking, now, meta: booking.check_in(now=now, cause=meta),
            **save_kwargs,
        )

    def check_out(
        self,
        *,
        booking_id: UUID,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        return self._change_booking(
            booking_id,
            expected_version,
            cause,
            lambda booking, now, meta: booking.check_out(now=now, cause=meta),
            **save_kwargs,
        )

    def record_payment(
        self,
        *,
        booking_id: UUID,
        amount: int,
        currency: str,
        method: str,
        payment_id: str | None = None,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        payment = payment_id or str(uuid4())
        return self._change_booking(
            booking_id,
            expected_version,
            cause,
            lambda booking, now, meta: booking.record_payment(
                payment_id=payment,
                amount=amount,
                currency=currency,
                method=method,
                now=now,
                cause=meta,
            ),
            **save_kwargs,
        )

    def request_refund(
        self,
        *,
        booking_id: UUID,
        amount: int,
        currency: str,
        reason: str = "",
        refund_id: str | None = None,
        expected_version: int | None = None,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        refund = refund_id or str(uuid4())
        return self._change_booking(
            booking_id,
            expected_version,
            cause,
            lambda booking, now, meta: booking.request_refund(
                refund_id=refund,
                amount=amount,
                currency=currency,
                reason=reason,
                now=now,
                cause=meta,
            ),
            **save_kwargs,
        )

    def settle_refund(
        self,
        *,
        booking_id: UUID,
        refund_id: str,
        succeeded: bool,
        reason: str = "",
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        return self._change_booking(
            booking_id,
            None,
            cause,
            lambda booking, now, meta: booking.settle_refund(
                refund_id=refund_id, succeeded=succeeded, reason=reason, now=now, cause=meta
            ),
            **save_kwargs,
        )

    # -- gates -------------------------------------------------------------------

    def add_gate(
        self,
        *,
        facility_id: UUID,
        name: str,
        direction: str,
        early_grace_minutes: int = 120,
        late_grace_minutes: int = 30,
        passage_seconds: int = 60,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        facility = self.facility(facility_id)
        gate = Gate.add(
            gate_id=uuid4(),
            facility_id=facility.id,
            name=name,
            direction=direction,
            early_grace_minutes=early_grace_minutes,
            late_grace_minutes=late_grace_minutes,
            passage_seconds=passage_seconds,
            now=self.clock(),
            cause=cause.as_metadata(),
        )
        return self._result(gate, self.save(gate, **save_kwargs))

    def set_overstay_tariff(
        self, *, pool_id: UUID, hourly: int, cause: Cause, **save_kwargs: Any
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.pool(pool_id)
            pool.set_overstay_tariff(hourly=hourly, now=now, cause=meta)
            return pool, [pool]

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    def record_plate_read(
        self,
        *,
        read_id: str,
        camera_id: str,
        gate_id: UUID,
        plate: str,
        confidence: float,
        captured_at: datetime,
        candidates: Sequence[str] = (),
        image_ref: str | None = None,
        booking_ids: Sequence[UUID] = (),
        cause: Cause,
        **save_kwargs: Any,
    ) -> ReadOutcome:
        """Decide on a read and store it once per read id, with any arrival or departure.

        `booking_ids` are the bookings that may carry the plate (or a candidate
        plate), found by the caller from a read model; each is checked here.
        """
        outcome: dict[str, ReadOutcome] = {}

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            existing = self._plate_read(read_id)
            if existing is not None:
                outcome["read"] = ReadOutcome(
                    read_id=read_id,
                    open=existing.open,
                    reason=existing.reason,
                    booking_id=existing.booking_id,
                    duplicate=True,
                    position=0,
                )
                return existing, []
            gate = self._get(gate_id, Gate, UnknownGate)
            bookings = self._bookings(booking_ids)
            tariffs = {b.pool_id: self.pool(b.pool_id).overstay_hourly for b in bookings}
            decision = barrier.decide(
                gate=gate,
                plate=plate,
                captured_at=captured_at,
                bookings=bookings,
                overstay_hourly=tariffs,
            )
            for candidate in candidates:
                if decision.reason != "unknown-plate":
                    break
                decision = barrier.decide(
                    gate=gate,
                    plate=candidate,
                    captured_at=captured_at,
                    bookings=bookings,
                    overstay_hourly=tariffs,
                )
            touched: list[Aggregate] = []
            booking = next((b for b in bookings if b.id == decision.booking_id), None)
            if booking is not None:
                booking.charge_overstay(
                    hours=decision.overstay_hours,
                    hourly=tariffs[booking.pool_id],
                    now=now,
                    cause=meta,
                )
                if decision.action != barrier.Action.NONE:
                    booking.record_passage(
                        direction=gate.direction,
                        read_id=read_id,
                        gate_id=gate.id,
                        plate=plate,
                        captured_at=captured_at,
                        now=now,
                        cause=meta,
                    )
                if booking.pending_events:
                    touched.append(booking)
            read = PlateRead.record(
                read_id=read_id,
                camera_id=camera_id,
                gate_id=gate.id,
                facility_id=gate.facility_id,
                direction=gate.direction,
                plate=plate,
                confidence=confidence,
                captured_at=captured_at,
                candidates=list(candidates),
                image_ref=image_ref,
                open=decision.open,
                reason=decision.reason,
                booking_id=decision.booking_id,
                now=now,
                cause=meta,
            )
            outcome["read"] = ReadOutcome(
                read_id=read_id,
                open=decision.open,
                reason=decision.reason,
                booking_id=decision.booking_id,
                duplicate=False,
                position=0,
            )
            return read, [read, *touched]

        result = self._execute(attempt, cause, lock=[], **save_kwargs)
        return replace(outcome["read"], position=result.position)

    def resolve_read(
        self,
        *,
        read_id: str,
        booking_id: UUID | None,
        note: str = "",
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        """Match an unmatched read to a booking by hand (recording the passage), or dismiss it."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            read = self._plate_read(read_id)
            if read is None:
                raise UnknownRead(f"no plate read {read_id!r}")
            read.resolve(booking_id=booking_id, note=note, now=now, cause=meta)
            touched: list[Aggregate] = [read]
            if booking_id is not None:
                booking = self.booking(booking_id)
                booking.record_passage(
                    direction=read.direction,
                    read_id=read_id,
                    gate_id=read.gate_id,
                    plate=read.plate,
                    captured_at=read.captured_at,
                    now=now,
                    cause=meta,
                )
                touched.append(booking)
            return read, touched

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    # -- write-side reads ------------------------------------------------------

    def facility(self, facility_id: UUID) -> Facility:
        return self._get(facility_id, Facility, UnknownFacility)

    def pool(self, pool_id: UUID) -> Pool:
        return self._get(pool_id, Pool, UnknownPool)

    def booking(self, booking_id: UUID) -> Booking:
        return self._get(booking_id, Booking, UnknownBooking)

    def booking_by_reference(self, reference: str) -> Booking:
        try:
            claim: object = self.repository.get(reference_id(reference))
        except AggregateNotFoundError:
            raise UnknownBooking(f"no booking with reference {reference!r}") from None
        assert isinstance(claim, BookingReference)
        return self.booking(claim.booking_id)

    def gate(self, gate_id: UUID) -> Gate:
        return self._get(gate_id, Gate, UnknownGate)

    def _plate_read(self, read_id: str) -> PlateRead | None:
        try:
            read: object = self.repository.get(plate_read_id(read_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(read, PlateRead)
        return read

    def _bookings(self, booking_ids: Iterable[UUID]) -> list[Booking]:
        found = []
        for booking_id in dict.fromkeys(booking_ids):
            try:
                found.append(self.booking(booking_id))
            except UnknownBooking:
                continue
        return found

    def night_inventory(self, pool_id: UUID, night: date) -> NightInventory | None:
        try:
            inventory: object = self.repository.get(inventory_id(pool_id, night))
        except AggregateNotFoundError:
            return None
        assert isinstance(inventory, NightInventory)
        return inventory

    def sold(self, pool_id: UUID, night: date) -> int:
        """Sold on the write side (confirmed plus live holds) as of the clock's now."""
        inventory = self.night_inventory(pool_id, night)
        return inventory.sold(now=self.clock()) if inventory else 0

    # -- machinery -------------------------------------------------------------

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def _get(self, aggregate_id: UUID, kind: type[A], missing: type[NotFound]) -> A:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing(f"no {kind.__name__.lower()} {aggregate_id}") from None
        if not isinstance(aggregate, kind):
            raise missing(f"no {kind.__name__.lower()} {aggregate_id}")
        return aggregate

    def _booking_at(self, booking_id: UUID, expected_version: int | None) -> Booking:
        booking = self.booking(booking_id)
        self._check_version(booking, expected_version)
        return booking

    @staticmethod
    def _check_version(aggregate: Aggregate, expected_version: int | None) -> None:
        if expected_version is not None and aggregate.version != expected_version:
            raise StaleVersion(expected=expected_version, actual=aggregate.version)

    def _booking_keys(self, booking_id: UUID) -> list[UUID]:
        booking = self.booking(booking_id)
        return [inventory_id(booking.pool_id, night) for night in booking.stay.days()]

    def _inventories(
        self, pool: Pool, nights: Iterable[date], now: datetime, meta: dict[str, str]
    ) -> list[NightInventory]:
        """The inventory of each night, opened at the pool's capacity if new."""
        inventories = []
        for night in nights:
            inventory = self.night_inventory(pool.id, night)
            if inventory is None:
                inventory = NightInventory.open(
                    pool_id=pool.id, night=night, capacity=pool.capacity, now=now, cause=meta
                )
            inventories.append(inventory)
        return inventories

    def _existing_inventories(self, pool_id: UUID, nights: Iterable[date]) -> list[NightInventory]:
        found = (self.night_inventory(pool_id, night) for night in nights)
        return [inventory for inventory in found if inventory is not None]

    def _change_booking(
        self,
        booking_id: UUID,
        expected_version: int | None,
        cause: Cause,
        change: Callable[[Booking, datetime, dict[str, str]], None],
        **save_kwargs: Any,
    ) -> CommandResult:
        """A command that touches the booking alone."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, expected_version)
            change(booking, now, meta)
            return booking, [booking]

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    def _end_booking(
        self,
        booking_id: UUID,
        expected_version: int | None,
        cause: Cause,
        end: Callable[[Booking, datetime, dict[str, str]], None],
        **save_kwargs: Any,
    ) -> CommandResult:
        """A command that ends a booking and gives its nights back."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, expected_version)
            end(booking, now, meta)
            inventories = self._existing_inventories(booking.pool_id, booking.stay.days())
            for inventory in inventories:
                inventory.release(booking_id=booking.id, now=now, cause=meta)
            return booking, [booking, *inventories]

        return self._execute(attempt, cause, lock=self._booking_keys(booking_id), **save_kwargs)

    def _execute(
        self,
        attempt: Callable[[datetime, dict[str, str]], tuple[Aggregate, list[Aggregate]]],
        cause: Cause,
        *,
        lock: Sequence[UUID],
        **save_kwargs: Any,
    ) -> CommandResult:
        """Run `attempt` and save what it touched in one transaction, retrying conflicts."""
        meta = cause.as_metadata()
        for attempt_number in range(1, MAX_ATTEMPTS + 1):
            with self.night_lock(sorted(set(lock))):
                subject, touched = attempt(self.clock(), meta)
                try:
                    recordings = self.save(*touched, **save_kwargs)
                except IntegrityError:
                    pass
                else:
                    return self._result(subject, recordings)
            time.sleep(random.uniform(0, 0.005 * attempt_number))  # noqa: S311 - jitter
        raise TooManyConflicts(
            f"the command conflicted with concurrent changes {MAX_ATTEMPTS} times; retry it"
        )

    def _result(self, subject: Aggregate, recordings: list[Recording[UUID]]) -> CommandResult:
        """The result; a command that changed nothing answers with the store's head position."""
        positions = [r.notification.id for r in recordings if r.notification.id is not None]
        position = max(positions) if positions else (self.recorder.max_notification_id() or 0)
        return CommandResult(
            id=subject.id, version=subject.version, position=position, subject=subject
        )
