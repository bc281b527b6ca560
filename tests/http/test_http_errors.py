"""Bad input is a 4xx problem+json with a stable type, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
import pytest
from falcon import testing
from http_support import Api, World, hold, hold_body, problem_type

from berth.http import Services, Settings, create_app


def event_count(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM berth_events").fetchone()
    assert row is not None
    return int(row[0])


def raw_post(api: Api, path: str, data: bytes, content_type: str = "application/json") -> Any:
    headers = api.headers("admin", {"Content-Type": content_type})
    return api.client.simulate_post(path, body=data, headers=headers)


def test_bad_bodies_are_4xx_problems_and_store_nothing(api: Api, world: World, db_url: str):
    before = event_count(db_url)
    good = json.dumps(hold_body(world)).encode()
    cases: list[tuple[bytes, str, int, str]] = [
        (b'{"pool_id": ', "application/json", 400, "malformed-json"),
        (b"\xff\xfe", "application/json", 400, "malformed-json"),
        (b'{"quantity": NaN}', "application/json", 400, "malformed-json"),
        (b"[" * 2000 + b"]" * 2000, "application/json", 400, "malformed-json"),
        (b"[1, 2]", "application/json", 400, "invalid-request"),
        (good, "text/plain", 415, "unsupported-media-type"),
        (good, "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
        (b" " * 5000, "application/json", 413, "body-too-large"),
    ]
    for data, content_type, status, kind in cases:
        answer = raw_post(api, "/bookings", data, content_type)
        assert (answer.status_code, problem_type(answer)) == (status, kind), data[:40]
    assert event_count(db_url) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"quantity": "2"}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 10**30}, "quantity"),
        ({"arrival": "2026-02-30"}, "arrival"),
        ({"arrival": "tomorrow"}, "arrival"),
        ({"pool_id": "not-a-uuid"}, "pool_id"),
        ({"guest": "Ada"}, "guest"),
        ({"guest": {"name": "Ada", "shoe_size": 9}}, "guest"),
        ({"plates": ["X" * 40]}, "plates"),
        ({"hold_minutes": 0}, "hold_minutes"),
    ],
)
def test_invalid_fields_are_400s_with_field_errors(
    api: Api, world: World, db_url: str, change: dict[str, Any], field: str
):
    before = event_count(db_url)
    answer = api.post("/bookings", hold_body(world, **change))
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request")
    assert field in answer.json["errors"]
    assert event_count(db_url) == before


def test_a_missing_required_field_is_named(api: Api, world: World):
    body = hold_body(world)
    del body["guest"]
    answer = api.post("/bookings", body)
    assert answer.json["errors"] == {"guest": ["Missing data for required field."]}


def test_a_problem_has_the_rfc_9457_members_and_the_request_id(api: Api, world: World):
    answer = api.post("/bookings", hold_body(world, quantity=6), headers={"X-Request-Id": "req-42"})
    body = answer.json
    assert answer.status_code == 409
    assert body["type"] == "https://berth.dev/problems/no-capacity"
    assert body["title"] and body["status"] == 409
    assert "only 5 left" in body["detail"]
    assert body["instance"] == "/bookings"
    assert body["request_id"] == "req-42"
    assert answer.headers["x-request-id"] == "req-42"


def test_unknown_routes_and_methods_are_problems(api: Api):
    missing = api.get("/nowhere")
    assert (missing.status_code, problem_type(missing)) == (404, "not-found")
    not_a_uuid = api.post("/bookings/123/confirm")
    assert (not_a_uuid.status_code, problem_type(not_a_uuid)) == (404, "not-found")
    wrong_method = api.client.simulate_delete("/bookings", headers=api.headers("admin"))
    assert (wrong_method.status_code, problem_type(wrong_method)) == (405, "method-not-allowed")


def test_a_command_refuses_query_parameters(api: Api, world: World):
    answer = api.post("/bookings?debug=1", hold_body(world))
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request")


class Boom:
    def on_get(self, req: Any, resp: Any) -> None:
        raise RuntimeError("SELECT secret FROM api_keys")


def test_an_unexpected_error_is_a_generic_500_that_reveals_nothing(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture
):
    app = create_app(settings, services)
    app.add_route("/boom", Boom())
    answer = testing.TestClient(app).simulate_get("/boom")
    assert (answer.status_code, problem_type(answer)) == (500, "internal-error")
    assert "secret" not in answer.text and "Traceback" not in answer.text
    assert "SELECT secret" in caplog.text


def test_request_and_correlation_ids_reach_the_events(api: Api, world: World, services: Services):
    generated = api.post("/bookings", hold_body(world), who="web")
    request_id = generated.headers["x-request-id"]
    assert generated.headers["x-correlation-id"] == request_id
    answer = api.post(
        "/bookings",
        hold_body(world),
        who="web",
        headers={"X-Request-Id": "r-1", "X-Correlation-Id": "journey-7"},
    )
    assert answer.headers["x-correlation-id"] == "journey-7"
    events = list(services.reservations.events.get(UUID(answer.json["id"])))
    key_id = api.tokens["web"].split("_")[1]
    assert events[0].cause == {  # type: ignore[attr-defined]
        "principal": key_id,
        "channel": "web",
        "request_id": "r-1",
        "correlation_id": "journey-7",
    }
    bad = api.get("/projections", headers={"X-Request-Id": "no spaces please"})
    assert (bad.status_code, problem_type(bad)) == (400, "invalid-header")


def test_an_empty_body_is_an_empty_object(api: Api, world: World):
    booking = hold(api, world)
    answer = raw_post(api, f"/bookings/{booking['id']}/confirm", b"", "")
    assert answer.status_code == 200, answer.text


def test_nul_characters_in_text_are_400_and_store_nothing(api: Api, world: World, db_url: str):
    """PostgreSQL text cannot hold U+0000; it was a 500 from the query or the insert."""
    before = event_count(db_url)
    query = api.get("/bookings", params={"channel": "web\x00"})
    assert (query.status_code, problem_type(query)) == (400, "invalid-request"), query.text
    assert "channel" in query.json["errors"]
    guest = {"name": "Ada\x00", "email": "ada@example.com"}
    body = api.post("/bookings", hold_body(world, guest=guest, plates=["AB12\x00CDE"]))
    assert (body.status_code, problem_type(body)) == (400, "invalid-request"), body.text
    assert {"guest", "plates"} <= set(body.json["errors"])
    facility = api.post("/facilities", {"name": "\x00", "time_zone": "Europe/London"})
    assert (facility.status_code, problem_type(facility)) == (400, "invalid-request")
    assert event_count(db_url) == before
