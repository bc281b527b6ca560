"""POST /projections/{name}/skips and /projections/{name}/retries: an admin's answer to a failure.

The same as `berth projection skip|retry` (`berth.adapters.tracking.projection_admin`):
a skip is a `ProjectionSkip` event with the admin key's cause; a retry clears the
recorded failure so the worker tries the event again at once.
"""

from __future__ import annotations

import falcon

from berth.adapters.tracking import projection_admin
from berth.http.auth import caller
from berth.http.commands.resource import CommandResource
from berth.http.schemas import projections
from berth.http.schemas.base import shared


class ProjectionSkipsResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, projection: str) -> None:
        body = req.context.body
        with self.services.pool.connection() as conn:
            outcome = projection_admin.skip(
                conn, self.services.reservations, projection=projection,
                position=body["position"], reason=body["reason"], cause=caller(req).cause(req),
            )  # fmt: skip
        resp.status = 201
        resp.media = shared(projections.Skipped).dump(
            {"projection": projection, "skipped": body["position"], "position": outcome.position}
        )


class ProjectionRetriesResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, projection: str) -> None:
        position = req.context.body["position"]
        with self.services.pool.connection() as conn:
            projection_admin.retry(conn, projection=projection, position=position)
        resp.media = shared(projections.Retried).dump(
            {"projection": projection, "retried": position}
        )
