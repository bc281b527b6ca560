"""A camera at a facility: which gate it reads at, and when its signing key changed.

Camera ids are chosen by the operator or the vendor, so they are scoped to the
facility: the aggregate's id is derived from (facility, camera id), and two
facilities may both have a camera "cam-1". A camera moves between gates of its
own facility only. Its signing secret is never in an event (events leave
Berth through Kafka); `Rekeyed` records that it changed and until when the
previous secret is still accepted.
"""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.error import DomainError, InvalidCommand

CAMERA_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/gate-camera")


class CameraExists(DomainError):
    code = "camera-exists"


class CameraAtAnotherFacility(DomainError):
    code = "camera-at-another-facility"


class AlreadyOnGate(DomainError):
    code = "camera-already-on-gate"


class InvalidCameraKey(InvalidCommand):
    code = "invalid-camera-key"


def camera_key(*, facility_id: UUID, camera_id: str) -> UUID:
    """The aggregate id of a facility's camera."""
    return uuid5(CAMERA_NAMESPACE, f"{facility_id}/{camera_id}")


class Camera(Aggregate):
    class Registered(recorded.Created):
        facility_id: UUID
        camera_id: str
        gate_id: UUID

    class Moved(recorded.Event):
        from_gate_id: UUID
        gate_id: UUID

        def apply(self, aggregate: "Camera") -> None:
            aggregate.gate_id = self.gate_id

    class Rekeyed(recorded.Event):
        """A new signing secret; the previous one is accepted until `previous_valid_until`."""

        previous_valid_until: datetime

        def apply(self, aggregate: "Camera") -> None:
            aggregate.previous_valid_until = self.previous_valid_until

    def __init__(self, *, facility_id: UUID, camera_id: str, gate_id: UUID) -> None:
        self.facility_id = facility_id
        self.camera_id = camera_id
        self.gate_id = gate_id
        self.previous_valid_until: datetime | None = None

    @classmethod
    def register(
        cls,
        *,
        facility_id: UUID,
        camera_id: str,
        gate_id: UUID,
        now: datetime,
        cause: dict[str, str],
    ) -> "Camera":
        if not camera_id.strip():
            raise InvalidCameraKey("a camera needs a camera id")
        return cls._create(
            cls.Registered,
            id=camera_key(facility_id=facility_id, camera_id=camera_id),
            timestamp=now,
            cause=cause,
            facility_id=facility_id,
            camera_id=camera_id,
            gate_id=gate_id,
        )

    def move(
        self, *, gate_id: UUID, gate_facility_id: UUID, now: datetime, cause: dict[str, str]
    ) -> None:
        if gate_facility_id != self.facility_id:
            raise CameraAtAnotherFacility(
                f"camera {self.camera_id!r} belongs to facility {self.facility_id};"
                " it can move only between that facility's gates"
            )
        if gate_id == self.gate_id:
            raise AlreadyOnGate(f"camera {self.camera_id!r} is already on gate {gate_id}")
        self.trigger_event(
            self.Moved, timestamp=now, cause=cause, from_gate_id=self.gate_id, gate_id=gate_id
        )

    def rekey(
        self, *, previous_valid_until: datetime, now: datetime, cause: dict[str, str]
    ) -> None:
        # An end already past (no grace: the caller read its clock a moment before
        # the command's) means the previous secret stops being valid now.
        self.trigger_event(
            self.Rekeyed, timestamp=now, cause=cause,
            previous_valid_until=max(previous_valid_until, now),
        )  # fmt: skip
