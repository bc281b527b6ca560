"""GET /availability?pool_id=&from=&to= : per night, capacity, held, confirmed, remaining."""

from __future__ import annotations

import falcon

from berth.adapters.read_models import queries
from berth.domain.catalog_commands import UnknownPool
from berth.http.endpoint import ADMIN, AUDITOR, BOOKING, FINANCE, OPERATIONS, Endpoint, roles
from berth.http.queries.reads import Query
from berth.http.schemas import answers
from berth.http.schemas.queries import AvailabilityQuery


class AvailabilityResource(Query):
    projections = ("availability",)
    endpoints = {
        "GET": Endpoint(
            summary="Availability of a pool per night, `from` to `to` inclusive",
            tag="availability",
            roles=roles(BOOKING, OPERATIONS, FINANCE, AUDITOR, ADMIN),
            query=AvailabilityQuery,
            response=answers.Availability,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.consistent(req) as conn:
            nights = queries.availability(
                conn,
                pool_id=query["pool_id"],
                first_night=query["first"],
                last_night=query["last"],
                now=self.services.clock(),
            )
        if nights is None:
            raise UnknownPool(f"no pool {query['pool_id']}")
        resp.media = answers.Availability().dump({"pool_id": query["pool_id"], "nights": nights})
