"""Gates: POST /facilities/{facility_id}/gates, POST /gates/{gate_id}/cameras,
POST /facilities/{facility_id}/cameras/{camera_id}/move|rekey,
PUT /pools/{pool_id}/overstay-tariff,
POST /facilities/{facility_id}/reads/{read_id}/resolve (and /reads/{read_id}/resolve)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

import falcon

from berth.adapters.postgres import gate_cameras
from berth.adapters.read_models import gate_queries
from berth.adapters.read_models.plate_reads import READ_ID_MAX
from berth.domain import bounds
from berth.domain.camera import Camera
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.http.auth import caller
from berth.http.commands.resource import CommandResource, Wiring
from berth.http.commands.views import as_resource
from berth.http.endpoint import ADMIN, OPERATIONS, Endpoint, roles
from berth.http.problems import Problem
from berth.http.schemas import answers, gates
from berth.http.schemas.base import shared

MANAGERS = roles(OPERATIONS, ADMIN)


class GatesResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.gates.add_gate(facility_id=facility_id, context=context, **body)

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, gates.Gate),
            status=201,
            location=lambda r: f"/gates/{r.id}",
        )


class CamerasResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, gate_id: UUID) -> None:
        gate = self.app.gates.gate(gate_id)
        camera_id = req.context.body["camera_id"]
        with self.services.pool.connection() as conn:
            if gate_cameras.find(conn, facility_id=gate.facility_id, camera_id=camera_id):
                # A camera registered before its events existed (0060) has only a row.
                raise Problem(
                    409, "camera-exists", "Camera exists",
                    f"camera {camera_id!r} is already registered at this facility;"
                    " move or re-key it instead",
                )  # fmt: skip
        change = gate_cameras.NewCamera(gate.facility_id, camera_id, gate.id)
        result = self.app.cameras.register_camera(
            gate_id=gate.id,
            camera_id=camera_id,
            context=CommandContext(cause=caller(req).cause(req), camera_change=change),
        )
        resp.status = 201
        resp.location = f"/facilities/{gate.facility_id}/cameras/{quote(camera_id, safe='')}"
        resp.media = shared(gates.Camera).dump(
            {"camera_id": camera_id, "gate_id": gate.id, "facility_id": gate.facility_id,
             "secret": change.secret, "position": result.position}
        )  # fmt: skip


def _camera_id(value: str) -> str:
    return _path_text(
        value, what="camera id", code="invalid-camera-id", maximum=gates.CAMERA_ID_MAX
    )


def _read_id(value: str) -> str:
    return _path_text(value, what="read id", code="invalid-read-id", maximum=READ_ID_MAX)


def _path_text(value: str, *, what: str, code: str, maximum: int) -> str:
    """A client-chosen id from the path, bounded like the same id in a body."""
    problem = bounds.text_problem(value)
    if problem is None and not 1 <= len(value) <= maximum:
        problem = f"1 to {maximum} characters, got {len(value)}"
    if problem:
        raise Problem(400, code, f"Invalid {what}", f"a {what} is {problem}")
    return value


def _registered_gate(conn: Any, facility_id: UUID, camera_id: str) -> UUID | None:
    """The gate of a camera's secret row: adopts a camera registered before 0060."""
    row = gate_cameras.find(conn, facility_id=facility_id, camera_id=camera_id)
    return row.gate_id if row is not None else None


class MoveCameraResource(CommandResource):
    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, camera_id: str
    ) -> None:
        camera_id = _camera_id(camera_id)
        gate_id = req.context.body["gate_id"]
        with self.services.pool.connection() as conn:
            registered = _registered_gate(conn, facility_id, camera_id)

        def act(context: CommandContext) -> CommandResult:
            return self.app.cameras.move_camera(
                facility_id=facility_id, camera_id=camera_id, gate_id=gate_id,
                registered_gate_id=registered, context=replace(
                    context, camera_change=gate_cameras.CameraMove(facility_id, camera_id, gate_id)
                ),
            )  # fmt: skip

        self.runner.run(req, resp, act=act, render=as_resource(self.app, gates.CameraPlacement))


class RekeyCameraResource(CommandResource):
    def __init__(self, wiring: Wiring, method: str, endpoint: Endpoint) -> None:
        super().__init__(wiring, method, endpoint)
        self.grace = timedelta(seconds=wiring.settings.camera_secret_grace_seconds)

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, camera_id: str
    ) -> None:
        camera_id = _camera_id(camera_id)
        with self.services.pool.connection() as conn:
            registered = _registered_gate(conn, facility_id, camera_id)
        grace_seconds = req.context.body.get("grace_seconds")
        grace = self.grace if grace_seconds is None else timedelta(seconds=grace_seconds)
        until = self.services.clock() + grace
        change = gate_cameras.CameraRekey(facility_id, camera_id, until)
        result = self.app.cameras.rekey_camera(
            facility_id=facility_id,
            camera_id=camera_id,
            previous_valid_until=until,
            registered_gate_id=registered,
            context=CommandContext(cause=caller(req).cause(req), camera_change=change),
        )
        # Nothing is read back after the commit: a lost connection now must not hide
        # the new secret from the client (its gate is the subject the command left).
        camera = result.subject
        assert isinstance(camera, Camera)
        resp.media = shared(gates.RekeyedCamera).dump(
            {"camera_id": camera_id, "facility_id": facility_id, "gate_id": camera.gate_id,
             "secret": change.secret, "previous_valid_until": until,
             "version": result.version, "position": result.position}
        )  # fmt: skip


class OverstayTariffResource(CommandResource):
    def on_put(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        hourly = req.context.body["hourly"]

        def act(context: CommandContext) -> CommandResult:
            return self.app.gates.set_overstay_tariff(
                pool_id=pool_id,
                hourly=hourly,
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, answers.Pool),
        )


class ResolveReadResource(CommandResource):
    """POST /facilities/{facility_id}/reads/{read_id}/resolve, or /reads/{read_id}/resolve
    when the read id is used at one facility only (read ids are scoped per facility)."""

    def on_post(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        read_id: str,
        facility_id: UUID | None = None,
    ) -> None:
        read_id = _read_id(read_id)
        body = req.context.body
        facility = facility_id if facility_id is not None else self._only_facility(read_id)

        def act(context: CommandContext) -> CommandResult:
            return self.app.gates.resolve_read(
                facility_id=facility,
                read_id=read_id,
                booking_id=body["booking_id"],
                note=body["note"],
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=lambda r: shared(gates.Resolved).dump(
                {
                    "read_id": read_id,
                    "facility_id": facility,
                    "booking_id": body["booking_id"],
                    "position": r.position,
                }
            ),
        )

    def _only_facility(self, read_id: str) -> UUID:
        with self.services.pool.connection() as conn:
            facilities = gate_queries.facilities_with_read(conn, read_id=read_id)
        if len(facilities) > 1:
            raise Problem(
                409, "ambiguous-read-id", "Ambiguous read id",
                f"read id {read_id!r} is used at more than one facility;"
                f" resolve it at /facilities/{{facility_id}}/reads/{read_id}/resolve",
            )  # fmt: skip
        if not facilities:
            raise Problem(404, "unknown-read", "Unknown read", f"no plate read {read_id!r}")
        return facilities[0]
