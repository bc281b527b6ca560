"""GET /health (no key: for load balancers) and GET /projections (lag per projection)."""

from __future__ import annotations

import logging

import falcon
import psycopg
import psycopg_pool

from berth.adapters import queries
from berth.http.endpoint import ADMIN, OPERATIONS, PUBLIC, Endpoint, roles
from berth.http.problems import Problem
from berth.http.queries.reads import Query
from berth.http.schemas import answers

log = logging.getLogger("berth.http")


class HealthResource(Query):
    endpoints = {
        "GET": Endpoint(
            summary="Whether the database answers, and how far each projection lags",
            tag="operations",
            roles=PUBLIC,
            response=answers.Health,
            errors=(503,),
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            with self.services.pool.connection(timeout=2.0) as conn:
                status = queries.projection_status(conn)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            log.warning("health: the database did not answer: %s", error)
            raise Problem(
                503, "database-unavailable", "Database unavailable", "the database did not answer"
            ) from None
        resp.media = answers.Health().dump(
            {"status": "ok", "database": "ok", "projections": status}
        )
        resp.cache_control = ["no-store"]


class ProjectionsResource(Query):
    endpoints = {
        "GET": Endpoint(
            summary="Position and lag of each projection",
            tag="operations",
            roles=roles(OPERATIONS, ADMIN),
            response=answers.Projections,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self.services.pool.connection() as conn:
            status = queries.projection_status(conn)
        resp.media = answers.Projections().dump({"projections": status})
