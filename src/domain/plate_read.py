"""A plate read from a camera, stored once per read id with the decision it got.

The aggregate's id is derived from the read id, so a camera retrying, or the
same read arriving by webhook and by Kafka, conflicts with the first and is
recorded once.
"""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import check_text
from berth.domain.error import DomainError, InvalidCommand

READ_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/plate-read")


class InvalidRead(InvalidCommand):
    code = "invalid-read"


class AlreadyResolved(DomainError):
    code = "already-resolved"


def plate_read_id(read_id: str) -> UUID:
    return uuid5(READ_NAMESPACE, read_id)


class PlateRead(Aggregate):
    class Recorded(recorded.Created):
        read_id: str
        camera_id: str
        gate_id: UUID
        facility_id: UUID
        direction: str
        plate: str
        confidence: float
        captured_at: datetime
        candidates: list[str]
        image_ref: str | None
        open: bool
        reason: str
        booking_id: UUID | None

    class Resolved(recorded.Event):
        """Operations matched an unmatched read to a booking by hand, or dismissed it."""

        booking_id: UUID | None
        note: str

        def apply(self, aggregate: "PlateRead") -> None:
            aggregate.resolved = True
            aggregate.booking_id = self.booking_id

    def __init__(
        self,
        *,
        read_id: str,
        camera_id: str,
        gate_id: UUID,
        facility_id: UUID,
        direction: str,
        plate: str,
        confidence: float,
        captured_at: datetime,
        open: bool,
        reason: str,
        booking_id: UUID | None,
    ) -> None:
        self.read_id = read_id
        self.camera_id = camera_id
        self.gate_id = gate_id
        self.facility_id = facility_id
        self.direction = direction
        self.plate = plate
        self.confidence = confidence
        self.captured_at = captured_at
        self.open = open
        self.reason = reason
        self.booking_id = booking_id
        self.resolved = False

    @property
    def matched(self) -> bool:
        return self.booking_id is not None

    @classmethod
    def record(
        cls,
        *,
        read_id: str,
        camera_id: str,
        gate_id: UUID,
        facility_id: UUID,
        direction: str,
        plate: str,
        confidence: float,
        captured_at: datetime,
        candidates: list[str],
        image_ref: str | None,
        open: bool,
        reason: str,
        booking_id: UUID | None,
        now: datetime,
        cause: dict[str, str],
    ) -> "PlateRead":
        for what, text in [("read id", read_id), ("camera id", camera_id), ("plate", plate)]:
            check_text(text, what=f"a read's {what}", maximum=200)
        for text in [*candidates, image_ref or ""]:
            check_text(text, what="a read's candidate plate or image", maximum=500)
        if not read_id.strip() or not plate.strip():
            raise InvalidRead("a read needs a read id and a plate")
        if not 0.0 <= confidence <= 1.0:
            raise InvalidRead(f"confidence must be 0 to 1, got {confidence}")
        return cls._create(
            cls.Recorded,
            id=plate_read_id(read_id),
            timestamp=now,
            cause=cause,
            read_id=read_id,
            camera_id=camera_id,
            gate_id=gate_id,
            facility_id=facility_id,
            direction=direction,
            plate=plate,
            confidence=confidence,
            captured_at=captured_at,
            candidates=candidates,
            image_ref=image_ref,
            open=open,
            reason=reason,
            booking_id=booking_id,
        )

    def resolve(
        self, *, booking_id: UUID | None, note: str, now: datetime, cause: dict[str, str]
    ) -> None:
        check_text(note, what="a note", multiline=True)
        if self.matched or self.resolved:
            raise AlreadyResolved(f"read {self.read_id} is already matched or resolved")
        self.trigger_event(
            self.Resolved, timestamp=now, cause=cause, booking_id=booking_id, note=note
        )
