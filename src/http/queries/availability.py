"""GET /availability?pool_id=&from=&to= : per night, capacity, held, confirmed, remaining,
and the price under each rate plan the caller's channel may sell."""

from __future__ import annotations

import falcon

from berth.adapters.pricing import plan_queries
from berth.adapters.read_models import queries
from berth.domain.catalog_commands import UnknownPool
from berth.http.auth import caller
from berth.http.endpoint import ADMIN, AUDITOR, BOOKING, FINANCE, OPERATIONS, Endpoint, roles
from berth.http.queries.rate_plans import sellable_plans
from berth.http.queries.reads import Query
from berth.http.schemas import rate_plans
from berth.http.schemas.base import shared
from berth.http.schemas.queries import AvailabilityQuery


class AvailabilityResource(Query):
    projections = ("availability",)
    endpoints = {
        "GET": Endpoint(
            summary="Availability of a pool per night, `from` to `to` inclusive",
            tag="availability",
            roles=roles(BOOKING, OPERATIONS, FINANCE, AUDITOR, ADMIN),
            query=AvailabilityQuery,
            response=rate_plans.PricedAvailability,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        pool_id = query["pool_id"]
        with self.consistent(req) as conn:
            with conn.pipeline():  # three statements, one round trip
                sent_nights = queries.send_availability(
                    conn,
                    pool_id=pool_id,
                    first_night=query["first"],
                    last_night=query["last"],
                    now=self.services.clock(),
                )
                sent_pool = plan_queries.send_pool_terms(conn, pool_id)
                sent_plans = plan_queries.send_rate_plans(conn, pool_id, include_retired=False)
            with sent_nights, sent_pool, sent_plans:
                pool = sent_pool.fetchone()
                if pool is None:
                    raise UnknownPool(f"no pool {pool_id}")
                nights = queries.nights_of(sent_nights)
                plans = sellable_plans(pool, sent_plans.fetchall(), caller(req).channel)
        for night in nights:
            day = night["night"]
            night["prices"] = [
                {
                    "rate_plan": code,
                    "price": terms.nightly(day),
                    "closed_to_arrival": terms.closed_to_arrival_on(day),
                }
                for code, terms in plans
            ]
        resp.media = shared(rate_plans.PricedAvailability).dump(
            {"pool_id": pool_id, "currency": pool["currency"], "nights": nights}
        )
