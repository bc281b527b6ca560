"""Role boundaries: a table of endpoint x role, and channel isolation of booking keys.

The table is written out here, apart from the code's own declarations, so a
change to who may do what has to change both.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from http_support import Api, World, hold, problem_type

from berth.adapters.postgres import apikeys
from berth.http import Services

ROLES = ("web", "operations", "finance", "auditor", "gate_device", "admin")
MANAGERS = {"operations", "admin"}
SELLERS = {"web", "operations", "admin"}
MONEY = {"web", "finance", "operations", "admin"}
READERS = {"web", "operations", "finance", "auditor", "admin"}
GATE = {"operations", "gate_device", "admin"}
DAY_LISTS = {"operations", "finance", "auditor", "gate_device", "admin"}

RANGE = {"first_night": "2030-06-01", "last_night": "2030-06-01", "capacity": 5}
POOL = {"name": "P", "capacity": 1, "nightly_price": 1, "currency": "EUR"}
PAYMENT = {"amount": 1, "currency": "EUR", "method": "card"}
DAY = "date=2030-06-01"
AVAILABILITY = "pool_id={pool}&from=2030-06-01&to=2030-06-02"

# method, path, body (or None), roles allowed
TABLE: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/facilities", {"name": "F", "time_zone": "UTC"}, MANAGERS),
    ("POST", "/facilities/{facility}/pools", POOL, MANAGERS),
    ("PUT", "/pools/{pool}/capacity", RANGE, MANAGERS),
    ("POST", "/bookings", "hold", SELLERS),
    ("GET", "/bookings", None, READERS),
    ("GET", "/bookings/{booking}", None, READERS | {"gate_device"}),
    ("POST", "/bookings/{booking}/confirm", {}, SELLERS),
    ("POST", "/bookings/{booking}/amend", {"quantity": 1}, SELLERS),
    ("POST", "/bookings/{booking}/cancel", {}, SELLERS),
    ("POST", "/bookings/{booking}/payments", PAYMENT, MONEY),
    ("POST", "/bookings/{booking}/refunds", {"amount": 1, "currency": "EUR"}, MONEY),
    ("POST", "/bookings/{booking}/refunds/r1/settle", {"succeeded": True}, {"finance", "admin"}),
    ("POST", "/bookings/{booking}/check-in", {}, GATE),
    ("POST", "/bookings/{booking}/check-out", {}, GATE),
    ("POST", "/bookings/{booking}/no-show", {}, MANAGERS),
    ("GET", "/availability?" + AVAILABILITY, None, READERS),
    ("GET", "/facilities/{facility}/arrivals?" + DAY, None, DAY_LISTS),
    ("GET", "/facilities/{facility}/departures?" + DAY, None, DAY_LISTS),
    ("GET", "/projections", None, MANAGERS),
    ("POST", "/projections/availability/retries", {"position": 1}, {"admin"}),
    ("POST", "/projections/availability/skips", {"position": 1, "reason": "r"}, {"admin"}),
]


def call(api: Api, method: str, path: str, body: Any, who: str | None) -> Any:
    if method == "GET":
        return api.get(path, who=who)
    if method == "PUT":
        return api.put(path, body, who=who)
    return api.post(path, body, who=who)


@pytest.mark.parametrize(
    ("method", "template", "body", "allowed"), TABLE, ids=[f"{m} {p}" for m, p, _, _ in TABLE]
)
def test_each_role_is_let_in_or_refused(
    api: Api, world: World, method: str, template: str, body: Any, allowed: set[str]
):
    booking = hold(api, world)
    path = template.format(facility=world.facility_id, pool=world.pool_id, booking=booking["id"])
    if body == "hold":
        body = {
            "pool_id": world.pool_id,
            "arrival": "2030-06-01",
            "departure": "2030-06-02",
            "guest": {"name": "G"},
        }
    unauthenticated = call(api, method, path, body, None)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    for role in ROLES:
        answer = call(api, method, path, body, role)
        if role in allowed:
            assert answer.status_code not in (401, 403), (role, answer.text)
        else:
            assert answer.status_code == 403, (role, answer.text)
            assert problem_type(answer) == "forbidden"


def test_the_auditor_is_read_only():
    writers = {role for method, _, _, allowed in TABLE if method != "GET" for role in allowed}
    assert "auditor" not in writers


@pytest.mark.parametrize("public", ["/health", "/health/projections", "/openapi.json"])
def test_health_and_the_openapi_document_need_no_key(api: Api, public: str):
    assert api.get(public, who=None).status_code == 200


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("confirm", {}),
        ("amend", {"quantity": 2}),
        ("cancel", {}),
        ("payments", PAYMENT),
        ("refunds", {"amount": 1, "currency": "EUR"}),
    ],
)
def test_a_booking_key_cannot_change_another_channels_booking(
    api: Api, world: World, services: Services, action: str, body: Any
):
    booking = hold(api, world, who="web")
    answer = api.post(f"/bookings/{booking['id']}/{action}", body, who="reseller")
    assert (answer.status_code, problem_type(answer)) == (404, "unknown-booking")
    assert answer.json["detail"] == f"no booking {booking['id']}"
    assert services.reservations.bookings.booking(UUID(booking["id"])).version == booking["version"]


def test_a_gate_device_acts_only_at_its_own_facility(api: Api, world: World):
    booking = hold(api, world)
    api.post(f"/bookings/{booking['id']}/confirm")
    elsewhere = api.post(f"/bookings/{booking['id']}/check-in", who="other_gate")
    assert (elsewhere.status_code, problem_type(elsewhere)) == (404, "unknown-booking")
    here = api.post(f"/bookings/{booking['id']}/check-in", who="gate_device")
    assert here.status_code == 200


def test_unknown_malformed_and_revoked_keys_are_401(api: Api, services: Services):
    for header in ("Basic abc", "Bearer", "Bearer berth_nope_nope", "Bearer x" * 3):
        answer = api.client.simulate_get("/projections", headers={"Authorization": header})
        assert (answer.status_code, problem_type(answer)) == (401, "unauthenticated"), header
    key_id = api.tokens["operations"].split("_")[1]
    wrong_secret = f"berth_{key_id}_not-the-secret"
    answer = api.client.simulate_get(
        "/projections", headers={"Authorization": f"Bearer {wrong_secret}"}
    )
    assert answer.status_code == 401
    with services.pool.connection() as conn:
        assert apikeys.revoke(conn, key_id, principal="test").revoked
    assert api.get("/projections", who="operations").status_code == 401
