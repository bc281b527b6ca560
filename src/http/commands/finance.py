"""Finance commands: close a business day, set a pool's tax rate, reverse a journal entry."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import falcon
from marshmallow import ValidationError

from berth.adapters.inputs import fields as bounded
from berth.adapters.read_models import ledger_queries
from berth.domain.commanding import CommandResult
from berth.domain.correction import UnknownEntry
from berth.http.auth import caller
from berth.http.commands.execution import CommandRunner
from berth.http.commands.views import as_resource
from berth.http.endpoint import ADMIN, FINANCE, OPERATIONS, Endpoint, roles
from berth.http.preconditions import refuse_if_match
from berth.http.problems import Problem
from berth.http.schemas import ledger as schemas
from berth.http.schemas.base import Empty
from berth.http.settings import Services


class _Command:
    def __init__(self, services: Services, runner: CommandRunner) -> None:
        self.app = services.reservations
        self.pool = services.pool
        self.runner = runner


def _business_date(text: str) -> date:
    try:
        day: date = bounded.Day().deserialize(text)
    except ValidationError as error:
        raise Problem(
            400,
            "invalid-request",
            "Invalid request",
            "the request has invalid or unknown fields; see `errors`",
            errors={"business_date": error.messages},
        ) from None
    return day


class CloseDayResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Night audit: close a facility's business day, moving its nights to revenue",
            tag="ledger",
            roles=roles(OPERATIONS, ADMIN),
            body=Empty,
            response=schemas.BusinessDayAnswer,
            status=201,
            idempotent=True,
            errors=(404, 409),
        )
    }

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, business_date: str
    ) -> None:
        refuse_if_match(req)
        day = _business_date(business_date)

        def act(**save: Any) -> CommandResult:
            return self.app.close_day(
                facility_id=facility_id, business_date=day, cause=caller(req).cause(req), **save
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, schemas.BusinessDayAnswer),
            status=201,
        )


class TaxRateResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Set the tax rate included in a pool's prices from now on",
            tag="ledger",
            roles=roles(FINANCE, ADMIN),
            body=schemas.SetTaxRate,
            response=schemas.TaxRateAnswer,
            idempotent=True,
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        refuse_if_match(req)
        body = req.context.body

        def act(**save: Any) -> CommandResult:
            return self.app.set_tax_rate(
                pool_id=pool_id, rate_bp=body["rate_bp"], cause=caller(req).cause(req), **save
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, schemas.TaxRateAnswer),
        )


class ReverseEntryResource(_Command):
    endpoints = {
        "POST": Endpoint(
            summary="Reverse a journal entry: the ledger posts a new entry negating it",
            tag="ledger",
            roles=roles(FINANCE, ADMIN),
            body=schemas.ReverseEntry,
            response=schemas.ReversalAnswer,
            status=201,
            idempotent=True,
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, entry_id: UUID) -> None:
        refuse_if_match(req)
        with self.pool.connection() as conn:
            facility_id = ledger_queries.entry_facility(conn, entry_id)
        if facility_id is None:
            raise UnknownEntry(f"no journal entry {entry_id}")
        reason = req.context.body["reason"]

        def act(**save: Any) -> CommandResult:
            return self.app.reverse_entry(
                facility_id=facility_id,
                entry_id=entry_id,
                reason=reason,
                cause=caller(req).cause(req),
                **save,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, schemas.ReversalAnswer),
            status=201,
        )
