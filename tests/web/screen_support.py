"""Helpers of the screen tests: a clock, a world made through the application, a client
that keeps cookies like a browser, and the CSRF token read from a page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from falcon import testing

from berth.adapters.read_models import gate_queries
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay

START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
TODAY = date(2030, 6, 1)
PASSWORD = "correct horse battery"
SETUP = Cause(principal="test", channel="operations", request_id="r", correlation_id="c")
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    facility_id: UUID
    pool_id: UUID
    entry_gate: UUID
    exit_gate: UUID


def make_world(app: Reservations) -> World:
    facility = app.catalogue.register_facility(
        name="Harbour car park", time_zone="UTC", context=CommandContext(cause=SETUP)
    )
    pool = app.catalogue.add_pool(
        facility_id=facility.id, name="Long stay", capacity=20, nightly_price=1200,
        currency="EUR", context=CommandContext(cause=SETUP),
    )  # fmt: skip
    gates = [
        app.gates.add_gate(
            facility_id=facility.id,
            name=f"{d} lane",
            direction=d,
            context=CommandContext(cause=SETUP),
        ).id
        for d in ("entry", "exit")
    ]
    return World(facility.id, pool.id, gates[0], gates[1])


def book(
    app: Reservations,
    world: World,
    *,
    plate: str,
    name: str = "Ada Lovelace",
    nights: int = 2,
    arrival: date = TODAY,
) -> UUID:
    given, family = name.split(" ", 1)
    held = app.bookings.hold(
        pool_id=world.pool_id, stay=Stay(arrival, arrival + timedelta(days=nights)), quantity=1,
        guest={"given_name": given, "family_name": family}, plates=[plate],
        context=CommandContext(cause=SETUP),
    )  # fmt: skip
    app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=SETUP))
    return held.id


def read_plate(
    app: Reservations,
    pool: Any,
    world: World,
    *,
    plate: str,
    direction: str = "entry",
    at: datetime | None = None,
) -> str:
    """A camera read at a gate, with the bookings the read model says may carry it."""
    when = at or app.clock()  # type: ignore[attr-defined]
    with pool.connection() as conn:
        candidates = gate_queries.bookings_carrying(
            conn, facility_id=world.facility_id, plates=[plate], captured_at=when,
            early_grace_minutes=120, late_grace_minutes=30,
        )  # fmt: skip
    read_id = f"read-{uuid4().hex[:12]}"
    app.gates.record_plate_read(
        read_id=read_id, camera_id="cam-1",
        gate_id=world.entry_gate if direction == "entry" else world.exit_gate,
        plate=plate, confidence=0.97, captured_at=when, booking_ids=candidates,
        context=CommandContext(cause=SETUP),
    )  # fmt: skip
    return read_id


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


@dataclass
class Client:
    """falcon's TestClient, keeping the cookies the screen sets, as a browser does."""

    client: testing.TestClient
    cookies: dict[str, str] = field(default_factory=dict)

    def _keep(self, result: testing.Result) -> testing.Result:
        for cookie in result.cookies.values():
            if cookie.value == "" or (cookie.max_age is not None and cookie.max_age <= 0):
                self.cookies.pop(cookie.name, None)
            else:
                self.cookies[cookie.name] = cookie.value
        return result

    def get(self, path: str, **kwargs: Any) -> testing.Result:
        return self._keep(self.client.simulate_get(path, cookies=self.cookies, **kwargs))

    def post(self, path: str, form: dict[str, str], **kwargs: Any) -> testing.Result:
        return self._keep(
            self.client.simulate_post(
                path,
                body="&".join(f"{k}={_quote(v)}" for k, v in form.items()),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                cookies=self.cookies,
                **kwargs,
            )
        )

    def sign_in(self, username: str, password: str = PASSWORD) -> testing.Result:
        page = self.get("/ops/login")
        return self.post(
            "/ops/login", {"csrf_token": csrf(page.text), "username": username,
                           "password": password, "next": "/ops/"},
        )  # fmt: skip


def _quote(value: str) -> str:
    from urllib.parse import quote_plus  # noqa: PLC0415

    return quote_plus(value)
