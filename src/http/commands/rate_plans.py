"""POST /pools/{pool_id}/rate-plans, PUT /pools/{pool_id}/rate-plans/{code}, POST .../retire."""

from __future__ import annotations

from uuid import UUID

import falcon

from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.http.commands.resource import CommandResource
from berth.http.commands.views import as_resource
from berth.http.schemas import rate_plans


def plan_location(pool_id: UUID, code: str) -> str:
    return f"/pools/{pool_id}/rate-plans/{code}"


class CreateRatePlanResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        body = req.context.body
        terms = rate_plans.terms_of(body)

        def act(context: CommandContext) -> CommandResult:
            return self.app.pricing.create_rate_plan(
                pool_id=pool_id,
                code=body["code"],
                name=body["name"],
                terms=terms,
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, rate_plans.RatePlan),
            status=201,
            location=lambda r: plan_location(pool_id, body["code"]),
        )


class ChangeRatePlanResource(CommandResource):
    def on_put(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID, code: str) -> None:
        body = req.context.body
        terms = rate_plans.terms_of(body)

        def act(context: CommandContext) -> CommandResult:
            return self.app.pricing.change_rate_plan(
                pool_id=pool_id,
                code=code,
                name=body["name"],
                terms=terms,
                context=context,
            )

        self.runner.run(req, resp, act=act, render=as_resource(self.app, rate_plans.RatePlan))


class RetireRatePlanResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID, code: str) -> None:
        def act(context: CommandContext) -> CommandResult:
            return self.app.pricing.retire_rate_plan(pool_id=pool_id, code=code, context=context)

        self.runner.run(req, resp, act=act, render=as_resource(self.app, rate_plans.RatePlan))
