"""GET /pools/{pool_id}/rate-plans, GET /pools/{pool_id}/rate-plans/{code}, GET /quotes.

All from the availability read model. A booking key sees only the plans its
channel may sell, and not retired ones; staff see every plan.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from berth.adapters.pricing import plan_queries
from berth.domain.catalog_commands import UnknownPool
from berth.domain.pricing import (
    DEFAULT_PLAN,
    ChannelNotAllowed,
    PlanTerms,
    check_code,
    default_terms,
)
from berth.domain.quote import quote
from berth.domain.rate_plan import RatePlanRetired
from berth.domain.rate_plan_commands import UnknownRatePlan
from berth.domain.stay import Stay
from berth.http.auth import Caller, caller
from berth.http.endpoint import ADMIN, AUDITOR, BOOKING, FINANCE, OPERATIONS, Endpoint, roles
from berth.http.queries.reads import Query
from berth.http.schemas import rate_plans
from berth.http.schemas.base import shared
from berth.http.schemas.queries import Consistent
from berth.projections.ledger_books import tax_included

READERS = roles(BOOKING, OPERATIONS, FINANCE, AUDITOR, ADMIN)
Connection = Any


def visible(who: Caller, row: dict[str, Any]) -> bool:
    """Whether the caller may see the plan: staff always, a booking key if it may sell it."""
    if who.role != BOOKING:
        return True
    return not row["retired"] and PlanTerms.from_dict(row["terms"]).sells_to(who.channel)


def sellable_plans(
    pool: dict[str, Any], live_plans: list[dict[str, Any]], channel: str
) -> list[tuple[str, PlanTerms]]:
    """Of the pool's live plans (`plan_queries.rate_plans`, retired left out), those
    `channel` may sell now: `default` first, then by code."""
    plans = [(DEFAULT_PLAN, default_terms(pool["nightly_price"]))]
    for row in live_plans:
        terms = PlanTerms.from_dict(row["terms"])
        if terms.sells_to(channel):
            plans.append((row["code"], terms))
    return plans


def _pool(conn: Connection, pool_id: UUID) -> dict[str, Any]:
    pool = plan_queries.pool_terms(conn, pool_id)
    if pool is None:
        raise UnknownPool(f"no pool {pool_id}")
    return pool


class RatePlanListResource(Query):
    projections = ("availability",)
    endpoints = {
        "GET": Endpoint(
            summary="A pool's rate plans (a booking key: those its channel may sell)",
            tag="rate plans",
            roles=READERS,
            query=Consistent,
            response=rate_plans.RatePlanList,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID) -> None:
        who = caller(req)
        with self.consistent(req) as conn:
            _pool(conn, pool_id)
            rows = [row for row in plan_queries.rate_plans(conn, pool_id) if visible(who, row)]
        resp.media = shared(rate_plans.RatePlanList).dump({"pool_id": pool_id, "rate_plans": rows})


class RatePlanResource(Query):
    projections = ("availability",)
    endpoints = {
        "GET": Endpoint(
            summary="A rate plan, from the availability read model",
            tag="rate plans",
            roles=READERS,
            query=Consistent,
            response=rate_plans.RatePlan,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, pool_id: UUID, code: str) -> None:
        check_code(code)
        with self.consistent(req) as conn:
            row = plan_queries.rate_plan(conn, pool_id, code)
        if row is None or not visible(caller(req), row):
            raise UnknownRatePlan(f"no rate plan {code!r} on pool {pool_id}")
        resp.set_header("ETag", f'"{row["version"]}"')
        resp.media = shared(rate_plans.RatePlan).dump(row)


class QuotesResource(Query):
    projections = ("availability",)
    endpoints = {
        "GET": Endpoint(
            summary="What a stay costs under a rate plan, with tax and cancellation terms,"
            " or why it cannot be sold",
            tag="availability",
            roles=READERS,
            query=rate_plans.QuoteQuery,
            response=rate_plans.QuoteAnswer,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        who = caller(req)
        stay = Stay(query["arrival"], query["departure"])
        code = query["rate_plan"]
        with self.consistent(req) as conn:
            reads = plan_queries.quote_reads(
                conn,
                query["pool_id"],
                code,
                first_night=stay.arrival,
                last_night=stay.days()[-1],
                now=self.services.clock(),
            )
        if reads is None:
            raise UnknownPool(f"no pool {query['pool_id']}")
        pool, remaining = reads.pool, reads.remaining
        terms = self._terms(who, pool, code, reads.plan)
        answer: dict[str, Any] = {
            "pool_id": pool["pool_id"],
            "rate_plan": code,
            "arrival": stay.arrival,
            "departure": stay.departure,
            "nights": stay.nights,
            "quantity": query["quantity"],
            "currency": pool["currency"],
            "cancellation": pool["cancellation"],
        }
        if terms is None:
            answer |= {"sellable": False, "reason": self._retired(code)}
            resp.media = shared(rate_plans.QuoteAnswer).dump(answer)
            return
        found = quote(
            terms=terms,
            stay=stay,
            quantity=query["quantity"],
            channel=who.channel,
            remaining=remaining,
        )
        answer["sellable"] = found.sellable
        if found.reason != ChannelNotAllowed.code:  # another channel's prices stay its own
            answer["night_prices"] = [
                {"night": night, "price": terms.nightly(night), "remaining": left}
                for night, left in zip(stay.days(), remaining, strict=True)
            ]
        if found.priced is None:
            answer["reason"] = {"code": found.reason, "detail": found.detail}
        else:
            total = found.priced.total
            answer["total"] = total
            answer["tax"] = {
                "rate_bp": pool["tax_rate_bp"],
                "included": tax_included(total, pool["tax_rate_bp"]),
            }
        resp.media = shared(rate_plans.QuoteAnswer).dump(answer)

    @staticmethod
    def _terms(
        who: Caller, pool: dict[str, Any], code: str, row: dict[str, Any] | None
    ) -> PlanTerms | None:
        """The plan's terms; None if it is retired (and the caller may know it)."""
        if code == DEFAULT_PLAN:
            return default_terms(pool["nightly_price"])
        if row is None or (who.role == BOOKING and row["retired"]):
            raise UnknownRatePlan(f"no rate plan {code!r} on pool {pool['pool_id']}")
        if row["retired"]:
            return None
        return PlanTerms.from_dict(row["terms"])

    @staticmethod
    def _retired(code: str) -> dict[str, str]:
        return {"code": RatePlanRetired.code, "detail": f"the rate plan {code!r} is retired"}
