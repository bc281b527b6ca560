"""POST /pools/{pool_id}/rate-plans, PUT /pools/{pool_id}/rate-plans/{code}, POST .../retire."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from berth.domain.commanding import CommandResult
from berth.http.auth import caller
from berth.http.commands.execution import CommandRunner
from berth.http.commands.views import as_resource
from berth.http.endpoint import ADMIN, OPERATIONS, Endpoint, roles
from berth.http.preconditions import expected_version, refuse_if_match
from berth.http.schemas import rate_plans
from berth.http.schemas.base import Empty
from berth.http.settings import Services

MANAGERS = roles(OPERATIONS, ADMIN)


def plan_location(pool_id: UUID, code: str) -> str:
    return f"/pools/{pool_id}/rate-plans/{code}"


class _Command:
    def __init__(self, services: Services, runner: CommandRunner) -> None:
        self.app = services.reservations
        self.runner = runner


class CreateRatePlanResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Create a rate plan for a pool (its prices, stay rules and channels)",
            tag="rate plans",
            roles=MANAGERS,
            body=rate_plans.CreateRatePlan,
            response=rate_plans.RatePlan,
            status=201,
            idempotent=True,
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        refuse_if_match(req)
        body = req.context.body
        terms = rate_plans.terms_of(body)

        def act(**save: Any) -> CommandResult:
            return self.app.create_rate_plan(
                pool_id=pool_id,
                code=body["code"],
                name=body["name"],
                terms=terms,
                cause=caller(req).cause(req),
                **save,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, rate_plans.RatePlan),
            status=201,
            location=lambda r: plan_location(pool_id, body["code"]),
        )


class ChangeRatePlanResource(_Command):
    endpoints = {
        "PUT": Endpoint(
            summary="Replace a rate plan's terms (bookings keep the prices they were sold at)",
            tag="rate plans",
            roles=MANAGERS,
            body=rate_plans.RatePlanTerms,
            response=rate_plans.RatePlan,
            conditional=True,
            idempotent=True,
        )
    }

    def on_put(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID, code: str) -> None:
        body = req.context.body
        terms = rate_plans.terms_of(body)
        version = expected_version(req)

        def act(**save: Any) -> CommandResult:
            return self.app.change_rate_plan(
                pool_id=pool_id,
                code=code,
                name=body["name"],
                terms=terms,
                expected_version=version,
                cause=caller(req).cause(req),
                **save,
            )

        self.runner.run(req, resp, act=act, render=as_resource(self.app, rate_plans.RatePlan))


class RetireRatePlanResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Retire a rate plan: no longer sold; its bookings keep their prices",
            tag="rate plans",
            roles=MANAGERS,
            body=Empty,
            response=rate_plans.RatePlan,
            conditional=True,
            idempotent=True,
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID, code: str) -> None:
        version = expected_version(req)

        def act(**save: Any) -> CommandResult:
            return self.app.retire_rate_plan(
                pool_id=pool_id,
                code=code,
                expected_version=version,
                cause=caller(req).cause(req),
                **save,
            )

        self.runner.run(req, resp, act=act, render=as_resource(self.app, rate_plans.RatePlan))
