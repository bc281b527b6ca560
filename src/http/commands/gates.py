"""Gates: POST /facilities/{facility_id}/gates, POST /gates/{gate_id}/cameras,
PUT /pools/{pool_id}/overstay-tariff, POST /reads/{read_id}/resolve."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from berth.adapters import gate_cameras
from berth.domain.commanding import CommandResult
from berth.http.auth import caller
from berth.http.commands.execution import CommandRunner
from berth.http.commands.views import as_resource
from berth.http.endpoint import ADMIN, OPERATIONS, Endpoint, roles
from berth.http.preconditions import refuse_if_match
from berth.http.schemas import answers, gates
from berth.http.settings import Services

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
            summary="Register a camera on a gate; answers its signing secret, once",
            tag="gates",
            roles=MANAGERS,
            body=gates.RegisterCamera,
            response=gates.Camera,
            status=201,
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, gate_id: UUID) -> None:
        gate = self.app.gate(gate_id)
        with self.services.pool.connection() as conn:
            camera = gate_cameras.register(
                conn,
                camera_id=req.context.body["camera_id"],
                gate_id=gate.id,
                facility_id=gate.facility_id,
            )
        resp.status = 201
        resp.media = gates.Camera().dump(camera)


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

    def on_post(self, req: falcon.Request, resp: falcon.Response, read_id: str) -> None:
        refuse_if_match(req)
        body = req.context.body

        def act(**save: Any) -> CommandResult:
            return self.app.resolve_read(
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
                {"read_id": read_id, "booking_id": body["booking_id"], "position": r.position}
            ),
        )
