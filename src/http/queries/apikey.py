"""GET /apikeys/{key_id}: one API key (never its secret), where POST /apikeys points."""

from __future__ import annotations

import falcon

from berth.adapters.postgres import apikeys
from berth.http.endpoint import ADMIN, Endpoint, roles
from berth.http.schemas import apikeys as schemas
from berth.http.schemas.base import shared
from berth.http.settings import Services


class KeyResource:
    endpoints = {
        "GET": Endpoint(
            summary="An API key: id, role, scope, label, changes and last use, never a secret",
            tag="apikeys",
            roles=roles(ADMIN),
            response=schemas.Key,
            errors=(404,),
        )
    }

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response, key_id: str) -> None:
        with self.services.pool.connection() as conn:
            record = apikeys.key_record(conn, key_id)
        resp.media = shared(schemas.Key).dump(record.as_dict())
