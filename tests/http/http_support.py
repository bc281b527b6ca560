"""Helpers of the HTTP tests: a clock, a client with a key per role, bookings via the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from falcon import testing

from berth.adapters.postgres import apikeys
from berth.http import Services

START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
ARRIVAL = date(2030, 6, 1)
DEPARTURE = date(2030, 6, 3)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Api:
    """The test client plus a token per role (`web` and `reseller` are booking keys)."""

    client: testing.TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return headers

    def get(self, path: str, who: str | None = "admin", **kwargs: Any) -> testing.Result:
        headers = self.headers(who, kwargs.pop("headers", None))
        return self.client.simulate_get(path, headers=headers, **kwargs)

    def post(
        self, path: str, body: Any = None, who: str | None = "admin", **kw: Any
    ) -> testing.Result:
        headers = self.headers(who, kw.pop("headers", None))
        if body is not None:
            kw["json"] = body
        return self.client.simulate_post(path, headers=headers, **kw)

    def put(
        self, path: str, body: Any = None, who: str | None = "admin", **kw: Any
    ) -> testing.Result:
        headers = self.headers(who, kw.pop("headers", None))
        if body is not None:
            kw["json"] = body
        return self.client.simulate_put(path, headers=headers, **kw)


def make_key(services: Services, role: str, scope: str = "") -> str:
    with services.pool.connection() as conn:
        _, token = apikeys.create_key(conn, role=role, scope=scope, label=f"test {role}")
    return token


@dataclass
class World:
    facility_id: str
    pool_id: str


def hold_body(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "pool_id": world.pool_id,
        "arrival": ARRIVAL.isoformat(),
        "departure": DEPARTURE.isoformat(),
        "quantity": 1,
        "guest": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "plates": ["AB12 CDE"],
    }
    body.update(changes)
    return body


def hold(api: Api, world: World, who: str = "web", **changes: Any) -> dict[str, Any]:
    answer = api.post("/bookings", hold_body(world, **changes), who=who)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json
    return result


def problem_type(result: testing.Result) -> str:
    """The last segment of a problem answer's type, after checking its media type."""
    assert result.headers["content-type"] == "application/problem+json", result.text
    return str(result.json["type"]).rsplit("/", 1)[-1]
