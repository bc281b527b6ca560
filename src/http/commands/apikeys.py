"""GET and POST /apikeys, POST /apikeys/{key_id}/revoke and /rotate: admin keys manage keys.

These change the `api_keys` table, not the event store; who made each change is
kept there (`berth.adapters.postgres.apikeys`). A created or rotated key's token is in
that one answer only, so neither takes an `Idempotency-Key` (a stored answer
would keep the token).
"""

from __future__ import annotations

from typing import Any

import falcon

from berth.adapters.postgres import apikeys
from berth.http import paging
from berth.http.auth import caller
from berth.http.commands.resource import CommandResource
from berth.http.endpoint import ADMIN, Endpoint, roles
from berth.http.schemas import apikeys as schemas
from berth.http.schemas.base import shared
from berth.http.settings import Services

ADMINS = roles(ADMIN)


def _key_id(cursor: Any) -> bool:
    return isinstance(cursor, str) and apikeys.KEY_ID.fullmatch(cursor) is not None


def _after(cursor: str) -> str:
    """The key id a page continues after: an opaque cursor's, or a plain key id (as before)."""
    key: str = paging.after(cursor, legacy=lambda c: c if _key_id(c) else None, check=_key_id)
    return key


def _principal(req: falcon.Request) -> str:
    return caller(req).key.key_id


class KeysResource:
    """GET /apikeys, a query; POST /apikeys is `CreateKeyResource`."""

    endpoints = {
        "GET": Endpoint(
            summary="List API keys (never their secrets), in key id order",
            tag="apikeys",
            roles=ADMINS,
            query=schemas.KeyListQuery,
            response=schemas.KeyPage,
            operation_id="listApiKeys",
        )
    }

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        after = _after(query["cursor"]) if query["cursor"] else ""
        with self.services.pool.connection() as conn:
            keys = apikeys.list_keys(conn, after=after, limit=query["limit"] + 1)
        page, more = keys[: query["limit"]], len(keys) > query["limit"]
        resp.media = shared(schemas.KeyPage).dump(
            {"keys": [key.as_dict() for key in page]}
            | paging.page(req, page[-1].key_id if more else None)
        )


class CreateKeyResource(CommandResource):
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
        resp.media = shared(schemas.KeyWithToken).dump(created.as_dict() | {"token": token})


class RevokeKeyResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, key_id: str) -> None:
        with self.services.pool.connection() as conn:
            record = apikeys.revoke(conn, key_id, principal=_principal(req))
        resp.media = shared(schemas.Key).dump(record.as_dict())


class RotateKeyResource(CommandResource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, key_id: str) -> None:
        with self.services.pool.connection() as conn:
            record, token = apikeys.rotate(conn, key_id, principal=_principal(req))
        resp.media = shared(schemas.KeyWithToken).dump(record.as_dict() | {"token": token})
