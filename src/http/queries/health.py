"""GET /health and GET /health/projections (no key), and GET /projections (lag per projection).

`/health` is for load balancers and container health checks: it is red (503
`database-unavailable`) only when this process cannot reach the database, the
one thing that stops it serving. A failed or lagging projection does not take
the API out of service (commands and the other reads go on); `/health` then
answers 200 with `status: degraded` and every projection's status.

`/health/projections` is for monitors that alert on the read side: it is red
(503) when a projection has recorded an event it cannot apply
(`projection-failed`, naming it, its position and the error), or when one lags:
its oldest unapplied event is older than `BERTH_PROJECTION_MAX_LAG_SECONDS`
(`projection-lagging`). Either problem carries every projection's status.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon
import psycopg
import psycopg_pool

from berth.adapters.read_models import queries
from berth.http.endpoint import ADMIN, OPERATIONS, PUBLIC, Endpoint, roles
from berth.http.problems import Problem
from berth.http.queries.reads import Query
from berth.http.schemas import answers
from berth.http.schemas.base import shared
from berth.http.settings import Services, Settings

log = logging.getLogger("berth.http")


def health_endpoint(summary: str) -> dict[str, Endpoint]:
    """A health check's GET: no key, the Health answer, 503 when red."""
    return {
        "GET": Endpoint(
            summary=summary,
            tag="operations",
            roles=PUBLIC,
            response=answers.Health,
            errors=(503,),
        )
    }


class HealthResource(Query):
    """Whether this process can serve: red only when the database does not answer."""

    endpoints = health_endpoint(
        "Whether the API can serve (the database answers), and each projection's state"
    )
    strict = False

    def __init__(self, services: Services, settings: Settings) -> None:
        super().__init__(services, settings)
        self.max_lag = settings.projection_max_lag_seconds

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            with self.services.pool.connection(timeout=2.0) as conn:
                status = queries.projection_status(conn, max_lag_seconds=self.max_lag)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
            log.warning("health: the database did not answer: %s", error)
            raise Problem(
                503,
                "database-unavailable",
                "Database unavailable",
                "the database did not answer",
                headers={"Retry-After": "2"},
            ) from None
        unwell = [s for s in status if s["state"] != "ok"]
        if unwell and self.strict:
            raise projection_problem(unwell, status, max_lag=self.max_lag)
        resp.media = shared(answers.Health).dump(
            {"status": "degraded" if unwell else "ok", "database": "ok", "projections": status}
        )
        resp.cache_control = ["no-store"]


class ProjectionHealthResource(HealthResource):
    """Red when a projection failed or lags: for monitoring, never for a load balancer."""

    endpoints = health_endpoint("Red (503) when a projection failed on an event or lags too long")
    strict = True


def projection_problem(
    unwell: list[dict[str, Any]], status: list[dict[str, Any]], *, max_lag: float
) -> Problem:
    """503 naming each failed (or else lagging) projection, with every projection's status."""
    failed = [s for s in unwell if s["state"] == "failed"]
    if failed:
        code, title = "projection-failed", "Projection failed"
        detail = "; ".join(
            f"{s['projection']} cannot apply the event at position {s['failure']['position']}"
            f" ({s['failure']['error_class']}: {s['failure']['error_message']})"
            for s in failed
        )
    else:
        code, title = "projection-lagging", "Projection lagging"
        detail = "; ".join(
            f"{s['projection']} is {s['lag_events']} events behind, the oldest"
            f" {s['lag_seconds']:.0f} s old (more than {max_lag:g} s)"
            for s in unwell
        )
    return Problem(
        503,
        code,
        title,
        detail,
        headers={"Retry-After": "30"},
        database="ok",
        failed=[s["projection"] for s in unwell],
        statuses=answers.ProjectionStatus(many=True).dump(status),
    )


class ProjectionsResource(Query):
    endpoints = {
        "GET": Endpoint(
            summary="Position and lag of each projection",
            tag="operations",
            roles=roles(OPERATIONS, ADMIN),
            response=answers.Projections,
        )
    }

    def __init__(self, services: Services, settings: Settings) -> None:
        super().__init__(services, settings)
        self.max_lag = settings.projection_max_lag_seconds

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self.services.pool.connection() as conn:
            status = queries.projection_status(conn, max_lag_seconds=self.max_lag)
        resp.media = shared(answers.Projections).dump({"projections": status})
