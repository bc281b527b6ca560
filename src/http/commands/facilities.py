"""POST /facilities, POST /facilities/{facility_id}/pools, PUT /pools/{pool_id}/capacity."""

from __future__ import annotations

from uuid import UUID

import falcon

from berth.domain.cancellation import CancellationPolicy
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.http.commands.resource import CommandResource
from berth.http.commands.views import as_resource
from berth.http.endpoint import ADMIN, OPERATIONS, roles
from berth.http.schemas import answers

MANAGERS = roles(OPERATIONS, ADMIN)


class FacilitiesResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.catalogue.register_facility(
                name=body["name"],
                time_zone=body["time_zone"],
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, answers.Facility),
            status=201,
            location=lambda r: f"/facilities/{r.id}",
        )


class PoolsResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        body = req.context.body
        policy = body.get("cancellation")

        def act(context: CommandContext) -> CommandResult:
            return self.app.catalogue.add_pool(
                facility_id=facility_id,
                name=body["name"],
                capacity=body["capacity"],
                nightly_price=body["nightly_price"],
                currency=body["currency"],
                cancellation=CancellationPolicy(**policy) if policy else None,
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, answers.Pool),
            status=201,
            location=lambda r: f"/pools/{r.id}",
        )


class CapacityResource(CommandResource):
    def on_put(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.catalogue.change_capacity(
                pool_id=pool_id,
                first_night=body["first_night"],
                last_night=body["last_night"],
                capacity=body["capacity"],
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, answers.Pool),
        )
