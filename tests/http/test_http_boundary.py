"""Hostile input at the HTTP boundary: a value out of bounds is a 4xx problem and stores nothing.

Each of these was found on main as a 500, or worse, as a value stored that a
projection could then never apply.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from http_support import START, Api, World, hold, hold_body, problem_type
from test_http_gates import Lane

from berth.domain.bounds import MAX_MONEY
from berth.http.signatures import HEADER

BIGINT = 2**63 - 1


def event_count(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM berth_events").fetchone()
    assert row is not None
    return int(row[0])


def raw(api: Api, path: str, data: bytes, **headers: str) -> Any:
    headers = api.headers("admin", {"Content-Type": "application/json", **headers})
    return api.client.simulate_post(path, body=data, headers=headers)


def pay(api: Api, booking_id: str, amount: int) -> Any:
    body = {"amount": amount, "currency": "EUR", "method": "card"}
    return api.post(f"/bookings/{booking_id}/payments", body, who="web")


def test_a_booking_cannot_be_paid_more_than_it_can_keep(api: Api, world: World, db_url: str):
    """Paying 2^63-1 twice was accepted, and the bookings projection then failed forever."""
    booking = hold(api, world)
    huge = pay(api, booking["id"], BIGINT)
    assert (huge.status_code, problem_type(huge)) == (400, "invalid-request"), huge.text
    assert "amount" in huge.json["errors"]

    assert pay(api, booking["id"], MAX_MONEY).status_code == 200
    before = event_count(db_url)
    again = pay(api, booking["id"], MAX_MONEY)
    assert (again.status_code, problem_type(again)) == (409, "money-limit-exceeded"), again.text
    assert event_count(db_url) == before


def test_a_pool_priced_past_the_maximum_or_a_total_past_it_is_refused(
    api: Api, world: World, db_url: str
):
    pools = f"/facilities/{world.facility_id}/pools"
    body = {"name": "Dear", "capacity": 5, "nightly_price": BIGINT, "currency": "EUR"}
    before = event_count(db_url)
    priced = api.post(pools, body)
    assert (priced.status_code, problem_type(priced)) == (400, "invalid-request"), priced.text
    assert event_count(db_url) == before

    dear = api.post(pools, {**body, "nightly_price": MAX_MONEY})
    assert dear.status_code == 201, dear.text
    before = event_count(db_url)
    total = api.post("/bookings", {**hold_body(world), "pool_id": dear.json["id"]}, who="web")
    assert (total.status_code, problem_type(total)) == (409, "money-limit-exceeded"), total.text
    assert event_count(db_url) == before


def test_an_overstay_tariff_past_the_maximum_is_refused(api: Api, world: World, db_url: str):
    before = event_count(db_url)
    tariff = api.put(f"/pools/{world.pool_id}/overstay-tariff", {"hourly": BIGINT})
    assert (tariff.status_code, problem_type(tariff)) == (400, "invalid-request"), tariff.text
    assert event_count(db_url) == before


@pytest.mark.parametrize("night", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_a_capacity_change_outside_the_supported_dates_is_400(
    api: Api, world: World, db_url: str, night: str
):
    """9999-12-31 was an OverflowError (the night after it), a 500."""
    before = event_count(db_url)
    body = {"first_night": night, "last_night": night, "capacity": 3}
    answer = api.put(f"/pools/{world.pool_id}/capacity", body)
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request"), answer.text
    assert set(answer.json["errors"]) == {"first_night", "last_night"}
    assert event_count(db_url) == before


def test_dates_outside_the_supported_range_are_400_in_queries_too(api: Api, world: World):
    answers = [
        api.get(f"/availability?pool_id={world.pool_id}&from=9999-12-30&to=9999-12-31"),
        api.get("/bookings?arrival=9999-12-31"),
        api.get(f"/facilities/{world.facility_id}/arrivals?date=9999-12-31"),
        api.get("/bookings?modified_since=9999-12-31T23:59:59-14:00"),
    ]
    for answer in answers:
        assert (answer.status_code, problem_type(answer)) == (400, "invalid-request"), answer.text
    close = api.post(f"/facilities/{world.facility_id}/days/0001-01-01/close", {})
    assert (close.status_code, problem_type(close)) == (400, "invalid-request"), close.text


@pytest.mark.parametrize(
    "path_and_body",
    [
        ("/facilities", b'{"name": "Harbour \\ud800", "time_zone": "Europe/London"}'),
        ("/facilities", b'{"name": "Quay \\udfff", "time_zone": "Europe/London"}'),
        ("/facilities", b'{"name": "Bell \\u0007", "time_zone": "Europe/London"}'),
    ],
)
def test_a_lone_surrogate_or_control_character_in_any_text_is_400(
    api: Api, db_url: str, path_and_body: tuple[str, bytes]
):
    """A lone surrogate was a UnicodeEncodeError when stored: a 500."""
    path, body = path_and_body
    before = event_count(db_url)
    answer = raw(api, path, body)
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request"), answer.text
    assert event_count(db_url) == before


def test_a_lone_surrogate_in_a_booking_is_400_and_stores_nothing(
    api: Api, world: World, db_url: str
):
    before = event_count(db_url)
    body = json.dumps(hold_body(world, guest={"name": "Ada"})).replace("Ada", "Ada\\ud83d")
    answer = api.client.simulate_post(
        "/bookings",
        body=body.encode(),
        headers=api.headers("web", {"Content-Type": "application/json"}),
    )
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request"), answer.text
    assert event_count(db_url) == before
    booking = hold(api, world)
    before = event_count(db_url)
    cancel = raw(api, f"/bookings/{booking['id']}/cancel", b'{"reason": "\\udc00"}')
    assert (cancel.status_code, problem_type(cancel)) == (400, "invalid-request"), cancel.text
    assert event_count(db_url) == before


@pytest.fixture
def lane(api: Api, world: World) -> Lane:
    return Lane(api, world, "entry")


@pytest.mark.parametrize(
    "changes",
    [{"read_id": "r\x00"}, {"image_ref": "img\x00"}, {"camera_id": "cam\x00"}, {"plate": "A\x00"}],
)
def test_a_signed_read_with_nul_is_400_and_stores_nothing(
    lane: Lane, db_url: str, changes: dict[str, str]
):
    """NUL in read_id or image_ref was stored (the occupancy worker then failed on every start);
    in camera_id or plate it was a 500."""
    before = event_count(db_url)
    answer = lane.send({**lane.body("AB12 CDE"), **changes})
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request"), answer.text
    assert event_count(db_url) == before


@pytest.mark.parametrize(
    "signature",
    [
        "t=" + "9" * 400 + ",v1=" + "0" * 64,
        f"t={int(START.timestamp())},v1=\u00e9" + "0" * 63,
    ],
)
def test_a_malformed_signature_is_a_401_problem(lane: Lane, db_url: str, signature: str):
    """A 400-digit timestamp overflowed a float; a non-ASCII digest broke compare_digest: 500s."""
    before = event_count(db_url)
    answer = lane.api.client.simulate_post(
        f"/gates/{lane.gate_id}/reads",
        headers=lane.api.headers(
            "gate_device", {HEADER: signature, "Content-Type": "application/json"}
        ),
        body=json.dumps(lane.body("AB12 CDE")).encode(),
    )
    assert (answer.status_code, problem_type(answer)) == (401, "bad-signature"), answer.text
    assert event_count(db_url) == before


def test_a_chunked_body_is_read_not_taken_for_an_empty_one(api: Api, world: World):
    """Without a Content-Length the body was read as `{}`: here a 400 for missing fields."""
    body = json.dumps(hold_body(world)).encode()
    answer = api.client.simulate_post(
        "/bookings",
        body=body,
        headers=api.headers(
            "web", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        ),
        extras={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json["guest"]["given_name"] == "Ada"


def test_a_chunked_body_is_still_bounded(api: Api, world: World, db_url: str):
    before = event_count(db_url)
    body = json.dumps(hold_body(world, guest={"name": "A" * 5000})).encode()
    answer = api.client.simulate_post(
        "/bookings",
        body=body,
        headers=api.headers(
            "web", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        ),
        extras={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    assert (answer.status_code, problem_type(answer)) == (413, "body-too-large"), answer.text
    assert event_count(db_url) == before


def test_a_chunked_body_a_server_does_not_terminate_is_refused_not_guessed(api: Api, world: World):
    answer = api.client.simulate_post(
        "/bookings",
        body=json.dumps(hold_body(world)).encode(),
        headers=api.headers(
            "web", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        ),
        extras={"CONTENT_LENGTH": ""},
    )
    assert (answer.status_code, problem_type(answer)) == (411, "length-required"), answer.text


def test_a_long_token_or_header_is_a_problem(api: Api):
    """gunicorn answered a 9,000-character token with its own HTML 431 (see test_http_gunicorn)."""
    long = api.get("/bookings", headers={"Authorization": "Bearer " + "x" * 2000}, who=None)
    assert (long.status_code, problem_type(long)) == (401, "unauthenticated"), long.text
    assert "Authorization" in long.json["detail"]
    for name in ("Authorization", "X-Padding"):
        header = api.get("/bookings", headers={name: "Bearer " + "x" * 9000}, who=None)
        assert (header.status_code, problem_type(header)) == (431, "header-too-large")


def test_a_503_conforms_to_the_problem_schema(api: Api, world: World):
    """503 answers carried `projections` and `min_position`, which the schema forbade."""
    booking = hold(api, world)  # no workers run: the read model stays behind
    answer = api.get(f"/bookings/{booking['id']}?min_position={booking['position']}", who="web")
    assert answer.status_code == 503
    schema = api.get("/openapi.json", who=None).json["components"]["schemas"]["Problem"]
    undeclared = set(answer.json) - set(schema["properties"])
    assert not undeclared or schema.get("additionalProperties", True) is not False, undeclared
    assert {"projections", "min_position"} <= set(schema["properties"])
    assert schema["properties"]["min_position"]["type"] == "integer"
