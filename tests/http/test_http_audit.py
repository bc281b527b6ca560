"""Audit over HTTP: histories, states and books as of a cut, for auditor and admin keys only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from http_support import Api, Clock, World, hold, hold_body, problem_type

from berth.http import Services
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner
from old_events import store_v1_booking

AUDITORS = {"auditor", "admin"}
OTHERS = ("web", "reseller", "operations", "finance", "gate_device")
UNKNOWN = "00000000-0000-4000-8000-000000000009"


def project(db_url: str, services: Services, *names: str) -> None:
    with psycopg.connect(db_url) as conn:
        for name in names:
            runner = ProjectionRunner(db_url, PROJECTIONS[name], services.reservations.mapper)
            runner.catch_up(conn)


@pytest.fixture
def booking(api: Api, world: World) -> dict[str, Any]:
    """Held, confirmed, amended to another guest and paid, through the API; its last answer."""
    held = hold(api, world)
    path = f"/bookings/{held['id']}"
    assert api.post(f"{path}/confirm", who="web").status_code == 200
    amended = api.post(f"{path}/amend", {"guest": {"name": "Augusta Ada King"}}, who="web")
    assert amended.status_code == 200, amended.text
    paid = api.post(
        f"{path}/payments", {"amount": 2400, "currency": "EUR", "method": "card"}, who="web"
    )
    assert paid.status_code in (200, 201), paid.text
    result: dict[str, Any] = paid.json
    return result


def paths(world: World, booking: dict[str, Any]) -> list[str]:
    return [
        f"/audit/aggregates/{booking['id']}/events",
        f"/audit/aggregates/{booking['id']}/state?position={booking['position']}",
        f"/audit/ledger/trial-balance?facility_id={world.facility_id}&position=0",
    ]


def test_an_auditor_reads_a_bookings_history_with_causes_and_states(
    api: Api, booking: dict[str, Any]
) -> None:
    answer = api.get(f"/audit/aggregates/{booking['id']}/events", who="auditor")

    assert answer.status_code == 200, answer.text
    events = answer.json["events"]
    assert [e["type"] for e in events] == [
        "Booking.Held",
        "Booking.Confirmed",
        "Booking.Amended",
        "Booking.PaymentRecorded",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4]
    assert events[0]["cause"]["channel"] == "web"
    assert events[0]["cause"]["principal"] == api.tokens["web"].split("_")[1]
    assert events[2]["data"]["guest"] == {"given_name": "Augusta Ada", "family_name": "King"}
    assert [e["state"]["status"] for e in events] == ["held", "confirmed", "confirmed", "confirmed"]
    assert events[-1]["state"]["paid"] == 2400
    assert events[-1]["position"] <= booking["position"]
    assert answer.json["next_cursor"] is None


def test_history_pages_follow_the_version_cursor(api: Api, booking: dict[str, Any]) -> None:
    path = f"/audit/aggregates/{booking['id']}/events"
    first = api.get(f"{path}?limit=3", who="auditor").json
    assert [e["version"] for e in first["events"]] == [1, 2, 3]
    rest = api.get(first["next"], who="auditor").json
    assert ([e["version"] for e in rest["events"]], rest["next_cursor"]) == ([4], None)
    same = api.get(f"{path}?limit=3&cursor={first['next_cursor']}", who="auditor").json
    assert same == rest
    legacy = api.get(f"{path}?limit=3&cursor=3", who="auditor").json  # the version, as before
    assert legacy == rest


def test_the_state_as_of_a_position_or_a_time_is_the_state_then(
    api: Api, booking: dict[str, Any]
) -> None:
    history = api.get(f"/audit/aggregates/{booking['id']}/events", who="auditor").json["events"]
    base = f"/audit/aggregates/{booking['id']}/state"
    for event in history:
        by_position = api.get(f"{base}?position={event['position']}", who="auditor")
        assert by_position.status_code == 200, by_position.text
        assert by_position.json["state"] == event["state"]
        assert by_position.json["asked_position"] == event["position"]
    when = history[-1]["timestamp"].replace("+00:00", "Z")
    by_time = api.get(f"{base}?as_of={when}", who="admin")
    assert (by_time.status_code, by_time.json["version"]) == (200, 4), by_time.text
    encoded = api.get(f"{base}?as_of={history[-1]['timestamp'].replace('+', '%2B')}", who="admin")
    assert encoded.json["state"] == by_time.json["state"] == history[-1]["state"]


@pytest.mark.parametrize(
    "query",
    ["", "?as_of=2030-06-01T09:00:00Z&position=3", "?as_of=2030-06-01T09:00:00", "?position=-1"],
    ids=["neither", "both", "no-offset", "negative"],
)
def test_a_state_needs_exactly_one_cut(api: Api, booking: dict[str, Any], query: str) -> None:
    answer = api.get(f"/audit/aggregates/{booking['id']}/state{query}", who="auditor")
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request"), answer.text


def test_unknown_aggregates_and_states_before_creation_are_404(
    api: Api, booking: dict[str, Any], world: World
) -> None:
    unknown = api.get(f"/audit/aggregates/{UNKNOWN}/events", who="auditor")
    assert (unknown.status_code, problem_type(unknown)) == (404, "unknown-aggregate")
    early = api.get(f"/audit/aggregates/{booking['id']}/state?position=1", who="auditor")
    assert (early.status_code, problem_type(early)) == (404, "not-yet-created")
    books = api.get(f"/audit/ledger/trial-balance?facility_id={UNKNOWN}&position=9", who="admin")
    assert (books.status_code, problem_type(books)) == (404, "unknown-facility")


def test_the_replayed_trial_balance_equals_the_ledgers_at_the_same_position(
    api: Api,
    world: World,
    booking: dict[str, Any],
    db_url: str,
    services: Services,
    clock: Clock,
) -> None:
    clock.advance(timedelta(days=1))  # 1 June is over
    closed = api.post(f"/facilities/{world.facility_id}/days/2030-06-01/close", who="operations")
    assert closed.status_code == 201, closed.text
    project(db_url, services, "ledger")
    for position in (booking["position"], closed.json["position"]):
        cut = f"facility_id={world.facility_id}&position={position}"
        replayed = api.get(f"/audit/ledger/trial-balance?{cut}", who="auditor")
        live = api.get(f"/ledger/trial-balance?{cut}", who="auditor")
        assert replayed.status_code == live.status_code == 200, replayed.text
        assert replayed.json["accounts"] == live.json["accounts"]
        assert replayed.json["balanced"] and replayed.json["through_position"] <= position
    assert replayed.json["currency"] == "EUR"
    stay_revenue = {a["account"]: a["balance"] for a in replayed.json["accounts"]}
    assert stay_revenue["stay_revenue"] == 1200


def test_auditor_and_admin_keys_read_audit_endpoints_and_no_other_key_does(
    api: Api, world: World, booking: dict[str, Any]
) -> None:
    for path in paths(world, booking):
        assert api.get(path, who=None).status_code == 401
        for role in AUDITORS:
            answer = api.get(path, who=role)
            assert answer.status_code not in (401, 403), (path, role, answer.text)
        for role in OTHERS:
            answer = api.get(path, who=role)
            assert (answer.status_code, problem_type(answer)) == (403, "forbidden"), (path, role)


def test_an_auditor_key_issues_no_commands(api: Api, world: World, booking: dict[str, Any]) -> None:
    path = f"/bookings/{booking['id']}"
    for target, body in [
        ("/bookings", hold_body(world)),
        (f"{path}/confirm", {}),
        (f"{path}/amend", {"quantity": 2}),
        (f"{path}/cancel", {}),
        (f"{path}/payments", {"amount": 1, "currency": "EUR", "method": "card"}),
        (f"/facilities/{world.facility_id}/days/2030-06-01/close", None),
        (f"/ledger/entries/{uuid4()}/reverse", {"reason": "audit"}),
        ("/facilities", {"name": "F", "time_zone": "UTC"}),
    ]:
        answer = api.post(target, body, who="auditor")
        assert (answer.status_code, problem_type(answer)) == (403, "forbidden"), target


def test_the_history_of_a_booking_stored_in_the_old_guest_shape_shows_it_upcast(
    api: Api, world: World, services: Services
) -> None:
    booking_id = uuid4()
    store_v1_booking(
        services.reservations,
        booking_id,
        facility_id=UUID(world.facility_id),
        pool_id=UUID(world.pool_id),
    )
    king = {"given_name": "Augusta Ada", "family_name": "King", "phone": "+44 20 7946 0000"}

    history = api.get(f"/audit/aggregates/{booking_id}/events", who="auditor").json["events"]

    assert history[0]["data"]["guest"]["given_name"] == "Ada"
    assert history[0]["data"]["guest"]["family_name"] == "Lovelace"
    assert history[-1]["data"]["guest"] == history[-1]["state"]["guest"] == king


def test_the_openapi_document_describes_the_audit_endpoints(api: Api) -> None:
    document = api.get("/openapi.json", who=None).json
    for path in (
        "/audit/aggregates/{aggregate_id}/events",
        "/audit/aggregates/{aggregate_id}/state",
        "/audit/ledger/trial-balance",
    ):
        operation = document["paths"][path]["get"]
        assert operation["description"] == "Roles: admin, auditor"
        assert "404" in operation["responses"]
