"""A gate: one lane with a camera and a barrier, at a facility, for entry or exit."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import check_text
from berth.domain.error import InvalidCommand
from berth.domain.facility import check_name


class Direction(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class InvalidGateSettings(InvalidCommand):
    code = "invalid-gate-settings"


class BlankReason(InvalidCommand):
    code = "blank-reason"


MAX_REASON = 500
MAX_PLATE = 20


class Gate(Aggregate):
    """Grace periods are how far before its stay a vehicle may enter and how long
    after it may leave without charge; reads of one vehicle at this lane within
    `passage_seconds` of each other are one passage."""

    class Added(recorded.Created):
        facility_id: UUID
        name: str
        direction: str
        early_grace_minutes: int
        late_grace_minutes: int
        passage_seconds: int

    class OpenedByHand(recorded.Event):
        """Staff opened the barrier without a read that opened it, saying why."""

        reason: str
        plate: str  # the vehicle's plate as staff saw it, if they gave one

    def __init__(
        self,
        *,
        facility_id: UUID,
        name: str,
        direction: str,
        early_grace_minutes: int,
        late_grace_minutes: int,
        passage_seconds: int,
    ) -> None:
        self.facility_id = facility_id
        self.name = name
        self.direction = Direction(direction)
        self.early_grace_minutes = early_grace_minutes
        self.late_grace_minutes = late_grace_minutes
        self.passage_seconds = passage_seconds

    @classmethod
    def add(
        cls,
        *,
        gate_id: UUID,
        facility_id: UUID,
        name: str,
        direction: str,
        early_grace_minutes: int = 120,
        late_grace_minutes: int = 30,
        passage_seconds: int = 60,
        now: datetime,
        cause: dict[str, str],
    ) -> "Gate":
        if direction not in {d.value for d in Direction}:
            raise InvalidGateSettings(f"a gate is for 'entry' or 'exit', not {direction!r}")
        for name_, value in (
            ("early_grace_minutes", early_grace_minutes),
            ("late_grace_minutes", late_grace_minutes),
            ("passage_seconds", passage_seconds),
        ):
            if not 0 <= value <= 7 * 24 * 60:
                raise InvalidGateSettings(f"{name_} must be 0 to {7 * 24 * 60}, got {value}")
        return cls._create(
            cls.Added,
            id=gate_id,
            timestamp=now,
            cause=cause,
            facility_id=facility_id,
            name=check_name(name),
            direction=direction,
            early_grace_minutes=early_grace_minutes,
            late_grace_minutes=late_grace_minutes,
            passage_seconds=passage_seconds,
        )

    def open_by_hand(
        self, *, reason: str, plate: str, now: datetime, cause: dict[str, str]
    ) -> None:
        check_text(reason, what="a reason", maximum=MAX_REASON)
        check_text(plate, what="a plate", maximum=MAX_PLATE)
        if not reason.strip():
            raise BlankReason("say why the barrier is opened by hand")
        self.trigger_event(
            self.OpenedByHand,
            timestamp=now,
            cause=cause,
            reason=reason.strip(),
            plate=plate.strip(),
        )
