"""Query endpoints read the read models, and wait for `min_position` when asked."""

from __future__ import annotations

import pytest
from http_support import Api, World, hold, problem_type


@pytest.fixture
def caught_up(api: Api, world: World, workers: None) -> None:
    """The projection workers run, and have applied everything so far."""


def test_read_your_writes_hold_confirm_then_availability(api: Api, world: World, workers: None):
    booking = hold(api, world, quantity=2)
    query = f"/availability?pool_id={world.pool_id}&from=2030-06-01&to=2030-06-03"
    held = api.get(f"{query}&min_position={booking['position']}", who="web")
    assert held.status_code == 200, held.text
    assert [n["held"] for n in held.json["nights"]] == [2, 2, 0]
    confirmed = api.post(f"/bookings/{booking['id']}/confirm", who="web")
    answer = api.get(f"{query}&min_position={confirmed.json['position']}", who="web")
    assert answer.status_code == 200, answer.text
    default = [{"rate_plan": "default", "price": 1200, "closed_to_arrival": False}]
    assert answer.json["nights"] == [
        {"night": "2030-06-01", "capacity": 5, "held": 0, "confirmed": 2, "remaining": 3}
        | {"prices": default},
        {"night": "2030-06-02", "capacity": 5, "held": 0, "confirmed": 2, "remaining": 3}
        | {"prices": default},
        {"night": "2030-06-03", "capacity": 5, "held": 0, "confirmed": 0, "remaining": 5}
        | {"prices": default},
    ]


def test_a_position_not_reached_in_time_is_a_503_never_stale_data(api: Api, world: World):
    booking = hold(api, world)  # no workers run: the read models stay empty
    answer = api.get(f"/bookings/{booking['id']}?min_position={booking['position']}", who="web")
    assert answer.status_code == 503
    assert problem_type(answer) == "projection-behind"
    assert answer.json["min_position"] == booking["position"]
    assert answer.headers["retry-after"] == "1"


def test_availability_of_an_unknown_pool_is_a_404(api: Api, world: World, workers: None):
    answer = api.get(
        "/availability?pool_id=00000000-0000-4000-8000-000000000009&from=2030-06-01&to=2030-06-01"
    )
    assert (answer.status_code, problem_type(answer)) == (404, "unknown-pool")


@pytest.mark.parametrize(
    "query",
    [
        "from=2030-06-01&to=2030-06-02",
        "pool_id=nope&from=2030-06-01&to=2030-06-02",
        "pool_id={pool}&from=2030-02-30&to=2030-06-02",
        "pool_id={pool}&from=2030-06-03&to=2030-06-02",
        "pool_id={pool}&from=2030-01-01&to=2031-06-02",
        "pool_id={pool}&from=2030-06-01&to=2030-06-02&colour=blue",
        "pool_id={pool}&from=2030-06-01&to=2030-06-02&min_position=-1",
    ],
)
def test_bad_availability_queries_are_400s(api: Api, world: World, query: str):
    answer = api.get("/availability?" + query.format(pool=world.pool_id))
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request")
    assert answer.json["errors"]


def test_a_booking_is_read_from_the_read_model_with_its_etag(api: Api, world: World, workers: None):
    booking = hold(api, world)
    answer = api.get(f"/bookings/{booking['id']}?min_position={booking['position']}", who="web")
    assert answer.status_code == 200, answer.text
    assert answer.json["id"] == booking["id"]
    assert answer.json["status"] == "held"
    assert answer.json["reference"] == booking["reference"]
    assert answer.headers["etag"] == f'"{booking["version"]}"'


def test_another_channels_booking_is_not_found(api: Api, world: World, workers: None):
    booking = hold(api, world, who="web")
    path = f"/bookings/{booking['id']}?min_position={booking['position']}"
    answer = api.get(path, who="reseller")
    assert (answer.status_code, problem_type(answer)) == (404, "unknown-booking")
    assert api.get(path, who="auditor").status_code == 200


def test_the_booking_list_filters_and_pages_with_a_cursor(api: Api, world: World, workers: None):
    made = [hold(api, world, who="web") for _ in range(3)]
    other = hold(api, world, who="reseller")
    last = other["position"]
    page = api.get(f"/bookings?limit=2&min_position={last}", who="operations")
    assert page.status_code == 200, page.text
    assert len(page.json["bookings"]) == 2 and page.json["next_cursor"] is not None
    rest = api.get(f"/bookings?limit=2&cursor={page.json['next_cursor']}", who="operations")
    assert rest.json["next_cursor"] is None
    seen = [b["id"] for b in page.json["bookings"] + rest.json["bookings"]]
    assert seen == [b["id"] for b in [*made, other]]
    mine = api.get(f"/bookings?facility_id={world.facility_id}&status=held", who="web")
    assert {b["id"] for b in mine.json["bookings"]} == {b["id"] for b in made}
    assert {b["channel"] for b in mine.json["bookings"]} == {"web"}
    theirs = api.get("/bookings?channel=reseller", who="web")
    assert (theirs.status_code, problem_type(theirs)) == (403, "channel-forbidden")
    filtered = api.get("/bookings?channel=reseller&arrival=2030-06-01", who="finance")
    assert [b["id"] for b in filtered.json["bookings"]] == [other["id"]]
    later = api.get("/bookings?modified_since=2100-01-01T00:00:00Z", who="finance")
    assert later.json["bookings"] == []


def test_bad_booking_list_queries_are_400s(api: Api):
    for query in ("status=lost", "limit=0", "limit=501", "modified_since=2030-06-01T00:00:00"):
        answer = api.get(f"/bookings?{query}")
        assert (answer.status_code, problem_type(answer)) == (400, "invalid-request"), query


def test_arrivals_and_departures_of_a_day(api: Api, world: World, workers: None):
    arriving = hold(api, world)
    confirmed = api.post(f"/bookings/{arriving['id']}/confirm")
    hold(api, world)  # held, not confirmed: not expected
    base = f"/facilities/{world.facility_id}"
    arrivals = api.get(
        f"{base}/arrivals?date=2030-06-01&min_position={confirmed.json['position']}",
        who="gate_device",
    )
    assert arrivals.status_code == 200, arrivals.text
    assert [b["id"] for b in arrivals.json["bookings"]] == [arriving["id"]]
    departures = api.get(f"{base}/departures?date=2030-06-03", who="operations")
    assert [b["id"] for b in departures.json["bookings"]] == [arriving["id"]]
    nobody = api.get(f"{base}/departures?date=2030-06-01", who="operations")
    assert nobody.json["bookings"] == []
    elsewhere = api.get(f"{base}/arrivals?date=2030-06-01", who="other_gate")
    assert (elsewhere.status_code, problem_type(elsewhere)) == (404, "unknown-facility")
    impossible = api.get(f"{base}/arrivals?date=2030-02-30")
    assert (impossible.status_code, problem_type(impossible)) == (400, "invalid-request")


def test_health_needs_no_key_and_shows_projection_lag(api: Api, world: World):
    answer = api.get("/health", who=None)
    assert answer.status_code == 200, answer.text
    assert answer.json["status"] == "ok" and answer.json["database"] == "ok"
    lags = {p["projection"]: p for p in answer.json["projections"]}
    assert {"availability", "bookings"} <= set(lags)
    assert lags["bookings"]["lag_events"] == lags["bookings"]["head"] > 0


def test_projections_show_position_and_lag(api: Api, world: World, workers: None):
    booking = hold(api, world)
    api.get(f"/bookings/{booking['id']}?min_position={booking['position']}")
    answer = api.get("/projections", who="operations")
    assert answer.status_code == 200
    bookings = next(p for p in answer.json["projections"] if p["projection"] == "bookings")
    assert bookings["position"] >= booking["position"]
