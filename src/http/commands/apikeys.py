"""GET and POST /apikeys, POST /apikeys/{key_id}/revoke and /rotate: admin keys manage keys.

These change the `api_keys` table, not the event store; who made each change is
kept there (`berth.adapters.postgres.apikeys`). A created or rotated key's token is in
that one answer only, so neither takes an `Idempotency-Key` (a stored answer
would keep the token).
"""

from __future__ import annotations

import falcon

from berth.adapters.postgres import apikeys
from berth.http.auth import caller
from berth.http.endpoint import ADMIN, Endpoint, roles
from berth.http.schemas import apikeys as schemas
from berth.http.schemas.base import Empty
from berth.http.settings import Services

ADMINS = roles(ADMIN)


class _KeyResource:
    def __init__(self, services: Services) -> None:
        self.services = services


def _principal(req: falcon.Request) -> str:
    return caller(req).key.key_id


class KeysResource(_KeyResource):
    endpoints = {
        "GET": Endpoint(
            summary="List API keys (never their secrets), in key id order",
            tag="apikeys",
            roles=ADMINS,
            query=schemas.KeyListQuery,
            response=schemas.KeyPage,
        ),
        "POST": Endpoint(
            summary="Create an API key; its token is in this answer only",
            tag="apikeys",
            roles=ADMINS,
            body=schemas.CreateKey,
            response=schemas.KeyWithToken,
            status=201,
        ),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.services.pool.connection() as conn:
            keys = apikeys.list_keys(conn, after=query["cursor"], limit=query["limit"] + 1)
        page, more = keys[: query["limit"]], len(keys) > query["limit"]
        resp.media = schemas.KeyPage().dump(
            {
                "keys": [key.as_dict() for key in page],
                "next_cursor": page[-1].key_id if more else None,
            }
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        with self.services.pool.connection() as conn:
            key, token = apikeys.create_key(
                conn,
                role=body["role"],
                scope=body["scope"],
                label=body["label"],
                principal=_principal(req),
            )
            created = apikeys.key_record(conn, key.key_id)
        resp.status = falcon.HTTP_201
        resp.location = f"/apikeys/{key.key_id}"
        resp.media = schemas.KeyWithToken().dump(created.as_dict() | {"token": token})


class RevokeKeyResource(_KeyResource):
    endpoints = {
        "POST": Endpoint(
            summary="Revoke an API key: refused everywhere within BERTH_KEY_CACHE_SECONDS",
            tag="apikeys",
            roles=ADMINS,
            body=Empty,
            response=schemas.Key,
            errors=(404,),
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, key_id: str) -> None:
        with self.services.pool.connection() as conn:
            record = apikeys.revoke(conn, key_id, principal=_principal(req))
        resp.media = schemas.Key().dump(record.as_dict())


class RotateKeyResource(_KeyResource):
    endpoints = {
        "POST": Endpoint(
            summary="Give an API key a new secret (same id, role and scope); the old token"
            " is refused within BERTH_KEY_CACHE_SECONDS. The new token is in this answer only",
            tag="apikeys",
            roles=ADMINS,
            body=Empty,
            response=schemas.KeyWithToken,
            errors=(404, 409),
        )
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response, key_id: str) -> None:
        with self.services.pool.connection() as conn:
            record, token = apikeys.rotate(conn, key_id, principal=_principal(req))
        resp.media = schemas.KeyWithToken().dump(record.as_dict() | {"token": token})


def apikey_routes(services: Services) -> list[tuple[str, object]]:
    return [
        ("/apikeys", KeysResource(services)),
        ("/apikeys/{key_id}/revoke", RevokeKeyResource(services)),
        ("/apikeys/{key_id}/rotate", RotateKeyResource(services)),
    ]
