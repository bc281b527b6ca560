"""Gate commands: lanes, overstay tariffs, plate reads with their barrier decisions,
and resolving unmatched reads by hand."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from berth.domain import barrier
from berth.domain.booking import Booking
from berth.domain.booking_commands import Bookings, UnknownBooking
from berth.domain.catalog_commands import Catalogue
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandApplication, CommandResult
from berth.domain.error import DomainError, NotFound
from berth.domain.gate import Gate
from berth.domain.plate_read import PlateRead, legacy_plate_read_id, plate_read_id


class UnknownGate(NotFound):
    code = "unknown-gate"


class BookingAtAnotherFacility(DomainError):
    """A read is resolved only to a booking of the facility that read it."""

    code = "booking-at-another-facility"


class UnknownRead(NotFound):
    code = "unknown-read"


@dataclass(frozen=True)
class ReadOutcome:
    """The barrier decision for a plate read; `duplicate` when the read was already stored
    (at the same facility, as the same read)."""

    read_id: str
    open: bool
    reason: str
    booking_id: UUID | None
    duplicate: bool
    position: int


class Gates:
    """Lanes, overstay tariffs, plate reads and their barrier decisions."""

    def __init__(
        self, app: CommandApplication, *, catalogue: Catalogue, bookings: Bookings
    ) -> None:
        self.app = app
        self.catalogue = catalogue
        self.bookings = bookings

    def add_gate(
        self,
        *,
        facility_id: UUID,
        name: str,
        direction: str,
        early_grace_minutes: int = 120,
        late_grace_minutes: int = 30,
        passage_seconds: int = 60,
        context: CommandContext,
    ) -> CommandResult:
        facility = self.catalogue.facility(facility_id)
        gate = Gate.add(
            gate_id=uuid4(),
            facility_id=facility.id,
            name=name,
            direction=direction,
            early_grace_minutes=early_grace_minutes,
            late_grace_minutes=late_grace_minutes,
            passage_seconds=passage_seconds,
            now=self.app.clock(),
            cause=context.cause.as_metadata(),
        )
        return self.app.save_new(gate, context)

    def set_overstay_tariff(
        self, *, pool_id: UUID, hourly: int, context: CommandContext
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.catalogue.pool(pool_id)
            pool.set_overstay_tariff(hourly=hourly, now=now, cause=meta)
            return pool, [pool]

        return self.app.execute(attempt, context, lock=[])

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
        context: CommandContext,
    ) -> ReadOutcome:
        """Decide on a read and store it once per (facility, read id), with any arrival
        or departure. A read id the facility already used for another read is refused.

        `booking_ids` are the bookings that may carry the plate (or a candidate
        plate), found by the caller from a read model; each is checked here.
        """
        outcome: dict[str, ReadOutcome] = {}

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            gate = self.app.find(gate_id, Gate, UnknownGate)
            existing = self._plate_read(gate.facility_id, read_id)
            if existing is not None:
                existing.check_same_read(
                    camera_id=camera_id, gate_id=gate.id, plate=plate, confidence=confidence,
                    captured_at=captured_at, candidates=candidates, image_ref=image_ref,
                )  # fmt: skip
                outcome["read"] = ReadOutcome(
                    read_id=read_id,
                    open=existing.open,
                    reason=existing.reason,
                    booking_id=existing.booking_id,
                    duplicate=True,
                    position=0,
                )
                return existing, []
            bookings = self._bookings(booking_ids)
            tariffs = {b.pool_id: self.catalogue.pool(b.pool_id).overstay_hourly for b in bookings}
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

        result = self.app.execute(attempt, context, lock=[])
        return replace(outcome["read"], position=result.position)

    def resolve_read(
        self,
        *,
        facility_id: UUID,
        read_id: str,
        booking_id: UUID | None,
        note: str = "",
        context: CommandContext,
    ) -> CommandResult:
        """Match an unmatched read to a booking by hand (recording the passage), or dismiss it."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            read = self._plate_read(facility_id, read_id)
            if read is None:
                raise UnknownRead(f"no plate read {read_id!r} at facility {facility_id}")
            read.resolve(booking_id=booking_id, note=note, now=now, cause=meta)
            touched: list[Aggregate] = [read]
            if booking_id is not None:
                booking = self.bookings.booking(booking_id)
                if booking.facility_id != read.facility_id:
                    raise BookingAtAnotherFacility(
                        f"booking {booking_id} is at another facility than read {read_id!r}"
                    )
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

        return self.app.execute(attempt, context, lock=[])

    def open_barrier(
        self, *, gate_id: UUID, reason: str, plate: str = "", context: CommandContext
    ) -> CommandResult:
        """Record that staff opened a gate's barrier by hand, and why (the event is the record;
        the barrier itself is the site's)."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            gate = self.gate(gate_id)
            gate.open_by_hand(reason=reason, plate=plate, now=now, cause=meta)
            return gate, [gate]

        return self.app.execute(attempt, context, lock=[])

    def gate(self, gate_id: UUID) -> Gate:
        return self.app.find(gate_id, Gate, UnknownGate)

    def _plate_read(self, facility_id: UUID, read_id: str) -> PlateRead | None:
        """The facility's read with this id: under its scoped id, or else a read stored
        before 0060 under the read id alone, if that one is this facility's."""
        scoped = self._read_at(plate_read_id(facility_id=facility_id, read_id=read_id))
        if scoped is not None:
            return scoped
        legacy = self._read_at(legacy_plate_read_id(read_id))
        return legacy if legacy is not None and legacy.facility_id == facility_id else None

    def _read_at(self, aggregate_id: UUID) -> PlateRead | None:
        try:
            read: object = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return read if isinstance(read, PlateRead) else None

    def _bookings(self, booking_ids: Iterable[UUID]) -> list[Booking]:
        found = []
        for booking_id in dict.fromkeys(booking_ids):
            try:
                found.append(self.bookings.booking(booking_id))
            except UnknownBooking:
                continue
        return found
