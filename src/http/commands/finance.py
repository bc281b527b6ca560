"""Finance commands: close a business day, set a pool's tax rate, reverse a journal entry."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import falcon
from marshmallow import ValidationError

from berth.adapters.inputs import fields as bounded
from berth.adapters.read_models import ledger_queries
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.domain.correction import UnknownEntry
from berth.http.commands.resource import CommandResource
from berth.http.commands.views import as_resource
from berth.http.problems import Problem
from berth.http.schemas import ledger as schemas


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


class CloseDayResource(CommandResource):
    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, business_date: str
    ) -> None:
        day = _business_date(business_date)

        def act(context: CommandContext) -> CommandResult:
            return self.app.finance.close_day(
                facility_id=facility_id,
                business_date=day,
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, schemas.BusinessDayAnswer),
            status=201,
        )


class TaxRateResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        body = req.context.body

        def act(context: CommandContext) -> CommandResult:
            return self.app.catalogue.set_tax_rate(
                pool_id=pool_id,
                rate_bp=body["rate_bp"],
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, schemas.TaxRateAnswer),
        )


class ReverseEntryResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, entry_id: UUID) -> None:
        with self.services.pool.connection() as conn:
            facility_id = ledger_queries.entry_facility(conn, entry_id)
        if facility_id is None:
            raise UnknownEntry(f"no journal entry {entry_id}")
        reason = req.context.body["reason"]

        def act(context: CommandContext) -> CommandResult:
            return self.app.finance.reverse_entry(
                facility_id=facility_id,
                entry_id=entry_id,
                reason=reason,
                context=context,
            )

        self.runner.run(
            req,
            resp,
            act=act,
            render=as_resource(self.app, schemas.ReversalAnswer),
            status=201,
        )
