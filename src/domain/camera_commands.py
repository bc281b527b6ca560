"""Camera commands: register a camera on a gate, move it to another gate of its
facility, give it a new signing key. Each is recorded as an event with its cause.

The secrets themselves are not events: the caller hands the store a secret
change in the command's context (`CommandContext.camera_change`), written in the same transaction as
the event, so a camera never changes without its event, nor the other way round.
Cameras registered before migration 0060 have a secret but no aggregate; their
first move or re-key records the registration first (`registered_gate_id`).
"""

from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from berth.domain.camera import Camera, CameraExists, camera_key
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandApplication, CommandResult
from berth.domain.error import NotFound
from berth.domain.gate_commands import Gates


class UnknownCamera(NotFound):
    code = "unknown-camera"


class Cameras:
    """The cameras at a facility's gates."""

    def __init__(self, app: CommandApplication, *, gates: Gates) -> None:
        self.app = app
        self.gates = gates

    def register_camera(
        self, *, gate_id: UUID, camera_id: str, context: CommandContext
    ) -> CommandResult:
        """Register a new camera on a gate; its id must be new at the gate's facility."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            gate = self.gates.gate(gate_id)
            if self._camera(gate.facility_id, camera_id) is not None:
                raise CameraExists(
                    f"camera {camera_id!r} is already registered at this facility;"
                    " move or re-key it instead"
                )
            camera = Camera.register(
                facility_id=gate.facility_id, camera_id=camera_id, gate_id=gate.id,
                now=now, cause=meta,
            )  # fmt: skip
            return camera, [camera]

        return self.app.execute(attempt, context, lock=[])

    def move_camera(
        self,
        *,
        facility_id: UUID,
        camera_id: str,
        gate_id: UUID,
        registered_gate_id: UUID | None = None,
        context: CommandContext,
    ) -> CommandResult:
        """Move a camera to another gate of its facility (refused for another facility's)."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            camera = self._existing_camera(facility_id, camera_id, registered_gate_id, now, meta)
            gate = self.gates.gate(gate_id)
            camera.move(gate_id=gate.id, gate_facility_id=gate.facility_id, now=now, cause=meta)
            return camera, [camera]

        return self.app.execute(attempt, context, lock=[])

    def rekey_camera(
        self,
        *,
        facility_id: UUID,
        camera_id: str,
        previous_valid_until: datetime,
        registered_gate_id: UUID | None = None,
        context: CommandContext,
    ) -> CommandResult:
        """Record a camera's new signing secret; the old one counts until `previous_valid_until`."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            camera = self._existing_camera(facility_id, camera_id, registered_gate_id, now, meta)
            camera.rekey(previous_valid_until=previous_valid_until, now=now, cause=meta)
            return camera, [camera]

        return self.app.execute(attempt, context, lock=[])

    def camera(self, facility_id: UUID, camera_id: str) -> Camera:
        camera = self._camera(facility_id, camera_id)
        if camera is None:
            raise UnknownCamera(f"no camera {camera_id!r} at facility {facility_id}")
        return camera

    def _camera(self, facility_id: UUID, camera_id: str) -> Camera | None:
        try:
            camera: object = self.app.repository.get(
                camera_key(facility_id=facility_id, camera_id=camera_id)
            )
        except AggregateNotFoundError:
            return None
        assert isinstance(camera, Camera)
        return camera

    def _existing_camera(
        self,
        facility_id: UUID,
        camera_id: str,
        registered_gate_id: UUID | None,
        now: datetime,
        meta: dict[str, str],
    ) -> Camera:
        camera = self._camera(facility_id, camera_id)
        if camera is not None:
            return camera
        if registered_gate_id is None:
            raise UnknownCamera(f"no camera {camera_id!r} at facility {facility_id}")
        gate = self.gates.gate(registered_gate_id)  # a camera registered before its events existed
        return Camera.register(
            facility_id=gate.facility_id, camera_id=camera_id, gate_id=gate.id,
            now=now, cause=meta,
        )  # fmt: skip
