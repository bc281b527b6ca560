"""API keys: who is calling, whether their role may call this endpoint, what they may see.

A booking key acts for one channel (its scope): it sees only that channel's
bookings, and another channel's booking is answered as not found. A gate
device's scope is its facility. Every other role sees everything its
endpoints allow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.postgres import apikeys
from berth.domain.cause import Cause
from berth.http.endpoint import BOOKING, GATE_DEVICE, Endpoint
from berth.http.key_cache import ExpiringLru
from berth.http.problems import Problem
from berth.http.settings import Services, Settings

# Verified keys kept per process (the least recently used go first), and refusals apart.
KEY_CACHE_SIZE = 10_000
REFUSAL_CACHE_SIZE = 1_000


@dataclass(frozen=True)
class Caller:
    key: apikeys.ApiKey

    @property
    def role(self) -> str:
        return self.key.role

    @property
    def channel(self) -> str:
        """The channel recorded on events: a booking key's scope, else its role."""
        return self.key.scope if self.role == BOOKING else self.role

    def cause(self, req: falcon.Request) -> Cause:
        return Cause(
            principal=self.key.key_id,
            channel=self.channel,
            request_id=req.context.request_id,
            correlation_id=req.context.correlation_id,
        )

    def sees(self, *, channel: str, facility_id: UUID | str) -> bool:
        """Whether a booking of this channel at this facility is visible to the caller."""
        if self.role == BOOKING:
            return channel == self.key.scope
        if self.role == GATE_DEVICE:
            return str(facility_id) == self.key.scope
        return True

    def sees_facility(self, facility_id: UUID | str) -> bool:
        return self.role != GATE_DEVICE or str(facility_id) == self.key.scope


def caller(req: falcon.Request) -> Caller:
    found = req.context.caller
    assert isinstance(found, Caller)
    return found


class KeyVerifier:
    """Looks keys up in PostgreSQL, trusting an answer for `ttl` seconds of `services.clock`.

    Verified keys and refusals are cached apart (`berth.http.key_cache`), so
    unknown tokens cannot push a valid key out; `lookups` counts the trips to
    the database.
    """

    def __init__(
        self,
        services: Services,
        ttl: float,
        *,
        size: int = KEY_CACHE_SIZE,
        refusals: int = REFUSAL_CACHE_SIZE,
    ) -> None:
        self.services = services
        self.keys: ExpiringLru[apikeys.ApiKey] = ExpiringLru(size=size, ttl=ttl)
        self.refusals: ExpiringLru[None] = ExpiringLru(size=refusals, ttl=ttl)
        self.lookups = 0

    def __call__(self, token: str) -> apikeys.ApiKey | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self.services.clock().timestamp()
        found, key = self.keys.get(digest, now=now)
        if found:
            return key
        if self.refusals.get(digest, now=now)[0]:
            return None
        self.lookups += 1
        with self.services.pool.connection() as conn:
            key = apikeys.verify(conn, token)
        if key is None:
            self.refusals.put(digest, None, now=now)
        else:
            self.keys.put(digest, key, now=now)
        return key


# An API key's token is at most 200 characters (berth.adapters.postgres.apikeys.parse_token).
MAX_AUTHORIZATION = 1024


def _unauthenticated(detail: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Unauthenticated",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="berth"'},
    )


class Authenticate:
    def __init__(self, services: Services, settings: Settings) -> None:
        self.verify = KeyVerifier(services, settings.key_cache_seconds)

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        endpoint: Endpoint | None = getattr(resource, "endpoints", {}).get(req.method)
        if endpoint is None or endpoint.public:
            return  # no route, or a method the resource lacks (404/405), or public
        header = req.get_header("Authorization")
        if not header:
            raise _unauthenticated("send an API key as `Authorization: Bearer <key>`")
        if len(header) > MAX_AUTHORIZATION:
            raise _unauthenticated(
                f"the Authorization header is {len(header)} characters; an API key is far shorter"
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated("the Authorization header must be `Bearer <key>`")
        key = self.verify(token.strip())
        if key is None:
            raise _unauthenticated("the API key is unknown or revoked")
        if key.role not in endpoint.roles:
            raise Problem(
                403,
                "forbidden",
                "Forbidden",
                f"a {key.role} key cannot {req.method} {req.uri_template}",
            )
        req.context.caller = Caller(key)
