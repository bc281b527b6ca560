"""POST /projections/{name}/skips and /projections/{name}/retries: an admin's answer to a failure.

The same as `berth projection skip|retry` (`berth.adapters.tracking.projection_admin`):
a skip is a `ProjectionSkip` event with the admin key's cause; a retry clears the
recorded failure so the worker tries the event again at once.
"""

from __future__ import annotations

import falcon

from berth.adapters.tracking import projection_admin
from berth.http.auth import caller
from berth.http.endpoint import ADMIN, Endpoint, roles
from berth.http.schemas import projections
from berth.http.settings import Services


class ProjectionSkipsResource:
    endpoints = {
        "POST": Endpoint(
            summary="Record that a projection passes over the event at a position",
            tag="operations",
            roles=roles(ADMIN),
            body=projections.SkipEvent,
            response=projections.Skipped,
            status=201,
            errors=(404, 409),
        )
    }

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response, projection: str) -> None:
        body = req.context.body
        with self.services.pool.connection() as conn:
            outcome = projection_admin.skip(
                conn, self.services.reservations, projection=projection,
                position=body["position"], reason=body["reason"], cause=caller(req).cause(req),
            )  # fmt: skip
        resp.status = 201
        resp.media = projections.Skipped().dump(
            {"projection": projection, "skipped": body["position"], "position": outcome.position}
        )


class ProjectionRetriesResource:
    endpoints = {
        "POST": Endpoint(
            summary="Clear a projection's failure at a position: its worker tries again now",
            tag="operations",
            roles=roles(ADMIN),
            body=projections.RetryEvent,
            response=projections.Retried,
            errors=(404,),
        )
    }

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(self, req: falcon.Request, resp: falcon.Response, projection: str) -> None:
        position = req.context.body["position"]
        with self.services.pool.connection() as conn:
            projection_admin.retry(conn, projection=projection, position=position)
        resp.media = projections.Retried().dump({"projection": projection, "retried": position})
