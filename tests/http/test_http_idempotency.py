"""Idempotency-Key: a retry gets the first answer, nothing is done twice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from falcon import testing
from http_support import Api, World, hold, hold_body, problem_type
from psycopg.types.json import Jsonb

from berth.adapters.postgres import idempotency
from berth.http import Services, Settings, create_app
from berth.http.commands.execution import canonical_json


def counts(db_url: str) -> tuple[int, int]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM berth_events), (SELECT count(*) FROM idempotency_keys)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def with_key(key: str, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


def test_a_retried_hold_returns_the_first_answer_and_stores_nothing_new(
    api: Api, world: World, db_url: str
):
    first = api.post("/bookings", hold_body(world), who="web", headers=with_key("k-1"))
    assert first.status_code == 201
    after_first = counts(db_url)
    retry = api.post("/bookings", hold_body(world), who="web", headers=with_key("k-1"))
    assert retry.status_code == 201
    assert retry.json == first.json
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["idempotency-replayed"] == "true"
    assert counts(db_url) == after_first


def test_the_record_is_stored_with_the_commands_position(api: Api, world: World, db_url: str):
    booking = api.post("/bookings", hold_body(world), who="web", headers=with_key("k-2")).json
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT status, position, body FROM idempotency_keys WHERE idempotency_key = 'k-2'"
        ).fetchone()
    assert row is not None
    status, position, body = row
    assert (status, position) == (201, booking["position"])
    assert body["body"] == booking


def test_a_retried_confirm_replays_instead_of_refusing(api: Api, world: World, db_url: str):
    booking = hold(api, world)
    path = f"/bookings/{booking['id']}/confirm"
    first = api.post(path, who="web", headers=with_key("c-1"))
    before = counts(db_url)
    retry = api.post(path, who="web", headers=with_key("c-1"))
    assert (retry.status_code, retry.json) == (200, first.json)
    assert counts(db_url) == before
    fresh = api.post(path, who="web", headers=with_key("c-2"))
    assert (fresh.status_code, problem_type(fresh)) == (409, "illegal-transition")


def test_the_same_key_with_another_body_is_a_422(api: Api, world: World, db_url: str):
    api.post("/bookings", hold_body(world), who="web", headers=with_key("k-3"))
    before = counts(db_url)
    other = api.post("/bookings", hold_body(world, quantity=2), who="web", headers=with_key("k-3"))
    assert (other.status_code, problem_type(other)) == (422, "idempotency-key-reused")
    assert counts(db_url) == before


def test_keys_are_scoped_to_the_api_key(api: Api, world: World):
    web = api.post("/bookings", hold_body(world), who="web", headers=with_key("shared"))
    reseller = api.post("/bookings", hold_body(world), who="reseller", headers=with_key("shared"))
    assert reseller.status_code == 201
    assert reseller.json["id"] != web.json["id"]


def test_a_key_in_flight_is_a_409(api: Api, world: World, db_url: str):
    key_id = api.tokens["web"].split("_")[1]
    before = counts(db_url)
    with psycopg.connect(db_url, autocommit=True) as other_request:
        other_request.execute(
            "SELECT pg_advisory_lock(%s, %s)", idempotency.lock_keys(key_id, "busy")
        )
        answer = api.post("/bookings", hold_body(world), who="web", headers=with_key("busy"))
        assert (answer.status_code, problem_type(answer)) == (409, "idempotency-key-in-flight")
        assert answer.headers["retry-after"] == "1"
        assert counts(db_url) == before
        # Release it here: a closed connection's locks go only when its backend exits,
        # which can come after the next request.
        other_request.execute(
            "SELECT pg_advisory_unlock(%s, %s)", idempotency.lock_keys(key_id, "busy")
        )
    done = api.post("/bookings", hold_body(world), who="web", headers=with_key("busy"))
    assert done.status_code == 201


def test_a_refused_command_stores_no_answer_so_a_retry_runs_again(
    api: Api, world: World, db_url: str
):
    big = hold_body(world, quantity=6)
    refused = api.post("/bookings", big, who="web", headers=with_key("k-4"))
    assert refused.status_code == 409
    assert counts(db_url)[1] == 0
    api.put(
        f"/pools/{world.pool_id}/capacity",
        {"first_night": "2030-06-01", "last_night": "2030-06-02", "capacity": 6},
    )
    assert api.post("/bookings", big, who="web", headers=with_key("k-4")).status_code == 201


def test_answers_older_than_a_day_are_forgotten(api: Api, world: World, db_url: str):
    first = api.post("/bookings", hold_body(world), who="web", headers=with_key("old"))
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    again = api.post("/bookings", hold_body(world), who="web", headers=with_key("old"))
    assert again.status_code == 201
    assert again.json["id"] != first.json["id"]


def test_facility_commands_replay_too(api: Api, db_url: str):
    body = {"name": "Campsite", "time_zone": "Europe/Berlin"}
    first = api.post("/facilities", body, headers=with_key("f-1"))
    before = counts(db_url)
    retry = api.post("/facilities", body, headers=with_key("f-1"))
    assert (retry.status_code, retry.json) == (201, first.json)
    assert counts(db_url) == before


def test_an_answer_lost_after_the_commit_is_rebuilt_from_the_store(
    api: Api, world: World, db_url: str
):
    """The placeholder written in the command's transaction, as a crash would leave it."""
    first = api.post("/bookings", hold_body(world), who="web", headers=with_key("k-5"))
    placeholder: dict[str, Any] = {idempotency.PLACEHOLDER: True, "extra": {}}
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE idempotency_keys SET body = %s", (Jsonb(placeholder),))
    api.post(f"/bookings/{first.json['id']}/confirm", who="web")
    retry = api.post("/bookings", hold_body(world), who="web", headers=with_key("k-5"))
    assert (retry.status_code, retry.text) == (201, first.text)
    assert retry.headers["location"] == first.headers["location"]


def test_a_malformed_idempotency_key_is_a_400(api: Api, world: World):
    answer = api.post("/bookings", hold_body(world), headers=with_key("x" * 300))
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-header")


def test_a_replay_is_the_first_answer_byte_for_byte_with_its_status_and_headers(
    api: Api, world: World
):
    first = api.post("/bookings", hold_body(world), who="web", headers=with_key("b-1"))
    retry = api.post("/bookings", hold_body(world), who="web", headers=with_key("b-1"))
    assert (retry.status_code, retry.text) == (201, first.text)
    assert "position" in retry.json
    for header in ("etag", "location", "content-type"):
        assert retry.headers[header] == first.headers[header]
    payment = {"amount": 500, "currency": "EUR", "method": "card"}  # its id chosen by us
    path = f"/bookings/{first.json['id']}/payments"
    paid = api.post(path, payment, who="web", headers=with_key("p-1"))
    again = api.post(path, payment, who="web", headers=with_key("p-1"))
    assert (again.status_code, again.text, again.headers["etag"]) == (
        200,
        paid.text,
        paid.headers["etag"],
    )


class CrashAfterCommit:
    """A `store_answer` that fails, as a process dying after its commit would; once."""

    def __init__(self) -> None:
        self.lost: list[dict[str, Any]] = []

    def __call__(self, conn: Any, key_id: str, key: str, body: dict[str, Any]) -> None:
        self.lost.append(body)
        raise RuntimeError("the process died before storing the answer")


def test_after_a_crash_between_commit_and_storing_the_answer_a_replay_is_the_first_answer(
    api: Api, world: World, services: Services, settings: Settings, db_url: str
):
    crash = CrashAfterCommit()
    crashing = Api(
        testing.TestClient(create_app(settings, replace(services, store_answer=crash))),
        api.tokens,
    )
    died = crashing.post("/bookings", hold_body(world), who="web", headers=with_key("x-1"))
    assert died.status_code == 500
    lost_hold = crash.lost[-1]["body"]
    booking_id = lost_hold["id"]
    payment = {"amount": 500, "currency": "EUR", "method": "card"}
    path = f"/bookings/{booking_id}/payments"
    assert crashing.post(path, payment, who="web", headers=with_key("x-2")).status_code == 500
    lost_payment = crash.lost[-1]
    # The booking moves on before the retries come.
    api.post(f"/bookings/{booking_id}/confirm", who="web")
    before = counts(db_url)

    hold_again = api.post("/bookings", hold_body(world), who="web", headers=with_key("x-1"))
    assert hold_again.status_code == 201
    assert hold_again.text == canonical_json(lost_hold)
    assert hold_again.headers["location"] == f"/bookings/{booking_id}"
    assert hold_again.headers["etag"] == f'"{lost_hold["version"]}"'
    pay_again = api.post(path, payment, who="web", headers=with_key("x-2"))
    assert (pay_again.status_code, pay_again.text) == (200, canonical_json(lost_payment))
    assert pay_again.json["status"] == "held" and pay_again.json["paid"] == 500
    assert pay_again.json["payment_id"] == lost_payment["payment_id"]
    assert counts(db_url) == before
