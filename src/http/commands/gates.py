"""Gates: POST /facilities/{facility_id}/gates, POST /gates/{gate_id}/cameras,
POST /facilities/{facility_id}/cameras/{camera_id}/move|rekey,
PUT /pools/{pool_id}/overstay-tariff,
POST /facilities/{facility_id}/reads/{read_id}/resolve (and /reads/{read_id}/resolve)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.postgres import gate_cameras
from berth.adapters.read_models import gate_queries
from berth.adapters.read_models.plate_reads import READ_ID_MAX
from berth.domain import bounds
from berth.domain.camera import Camera
from berth.domain.commanding import CommandResult
from berth.http.auth import caller
from berth.http.commands.execution import CommandRunner
from berth.http.commands.views import as_resource
from berth.http.endpoint import ADMIN, OPERATIONS, Endpoint, roles
from berth.http.preconditions import refuse_if_match
from berth.http.problems import Problem
from berth.http.schemas import answers, gates
from berth.http.settings import Services, Settings

MANAGERS = roles(OPERATIONS, ADMIN)


class _Command:
    def __init__(self, services: Services, runner: CommandRunner) -> None:
        self.services = services
        self.app = services.reservations
        self.runner = runner


class GatesResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Add a gate (a lane with a camera and a barrier) to a facility",
            tag="gates",
            roles=MANAGERS,
            body=gates.AddGate,
            response=gates.Gate,
            status=201,
            idempotent=True,
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        refuse_if_match(req)
        body = req.context.body

        def act(**save: Any) -> CommandResult:
            return self.app.add_gate(
                facility_id=facility_id, cause=caller(req).cause(req), **body, **save
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, gates.Gate),
            status=201,
            location=lambda r: f"/gates/{r.id}",
        )


class CamerasResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Register a new camera on a gate; answers its signing secret, once",
            tag="gates",
            roles=MANAGERS,
            body=gates.RegisterCamera,
            response=gates.Camera,
            status=201,
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, gate_id: UUID) -> None:
        refuse_if_match(req)
        gate = self.app.gate(gate_id)
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
        result = self.app.register_camera(
            gate_id=gate.id, camera_id=camera_id, cause=caller(req).cause(req),
            camera_change=change,
        )  # fmt: skip
        resp.status = 201
        resp.location = f"/facilities/{gate.facility_id}/cameras/{camera_id}"
        resp.media = gates.Camera().dump(
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


class MoveCameraResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Move a camera to another gate of its facility (recorded as an event)",
            tag="gates",
            roles=MANAGERS,
            body=gates.MoveCamera,
            response=gates.CameraPlacement,
            idempotent=True,
        )
    }

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, camera_id: str
    ) -> None:
        refuse_if_match(req)
        camera_id = _camera_id(camera_id)
        gate_id = req.context.body["gate_id"]
        with self.services.pool.connection() as conn:
            registered = _registered_gate(conn, facility_id, camera_id)

        def act(**save: Any) -> CommandResult:
            return self.app.move_camera(
                facility_id=facility_id, camera_id=camera_id, gate_id=gate_id,
                registered_gate_id=registered, cause=caller(req).cause(req),
                camera_change=gate_cameras.CameraMove(facility_id, camera_id, gate_id), **save,
            )  # fmt: skip

        self.runner.run(req, resp, act=act, render=as_resource(self.app, gates.CameraPlacement))


class RekeyCameraResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Give a camera a new signing secret, answered once; the previous one"
            " is still accepted for BERTH_CAMERA_SECRET_GRACE_SECONDS",
            tag="gates",
            roles=MANAGERS,
            body=gates.RekeyCamera,
            response=gates.RekeyedCamera,
        )
    }

    def __init__(self, services: Services, runner: CommandRunner, settings: Settings) -> None:
        super().__init__(services, runner)
        self.grace = timedelta(seconds=settings.camera_secret_grace_seconds)

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, camera_id: str
    ) -> None:
        refuse_if_match(req)
        camera_id = _camera_id(camera_id)
        with self.services.pool.connection() as conn:
            registered = _registered_gate(conn, facility_id, camera_id)
        until = self.services.clock() + self.grace
        change = gate_cameras.CameraRekey(facility_id, camera_id, until)
        result = self.app.rekey_camera(
            facility_id=facility_id, camera_id=camera_id, previous_valid_until=until,
            registered_gate_id=registered, cause=caller(req).cause(req), camera_change=change,
        )  # fmt: skip
        # Nothing is read back after the commit: a lost connection now must not hide
        # the new secret from the client (its gate is the subject the command left).
        camera = result.subject
        assert isinstance(camera, Camera)
        resp.media = gates.RekeyedCamera().dump(
            {"camera_id": camera_id, "facility_id": facility_id, "gate_id": camera.gate_id,
             "secret": change.secret, "previous_valid_until": until,
             "version": result.version, "position": result.position}
        )  # fmt: skip


class OverstayTariffResource(_Command):
    endpoints = {
        "PUT": Endpoint(
            summary="Set a pool's overstay charge per started hour",
            tag="gates",
            roles=MANAGERS,
            body=gates.OverstayTariff,
            response=answers.Pool,
            idempotent=True,
        )
    }

    def on_put(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        refuse_if_match(req)
        hourly = req.context.body["hourly"]

        def act(**save: Any) -> CommandResult:
            return self.app.set_overstay_tariff(
                pool_id=pool_id, hourly=hourly, cause=caller(req).cause(req), **save
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, answers.Pool),
        )


class ResolveReadResource(_Command):
    """POST /facilities/{facility_id}/reads/{read_id}/resolve, or /reads/{read_id}/resolve
    when the read id is used at one facility only (read ids are scoped per facility)."""

    endpoints = {
        "POST": Endpoint(
            summary="Resolve an unmatched plate read by hand: match it to a booking, or dismiss it",
            tag="gates",
            roles=MANAGERS,
            body=gates.ResolveRead,
            response=gates.Resolved,
            idempotent=True,
        )
    }

    def on_post(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        read_id: str,
        facility_id: UUID | None = None,
    ) -> None:
        refuse_if_match(req)
        read_id = _read_id(read_id)
        body = req.context.body
        facility = facility_id if facility_id is not None else self._only_facility(read_id)

        def act(**save: Any) -> CommandResult:
            return self.app.resolve_read(
                facility_id=facility,
                read_id=read_id,
                booking_id=body["booking_id"],
                note=body["note"],
                cause=caller(req).cause(req),
                **save,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=lambda r: gates.Resolved().dump(
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
