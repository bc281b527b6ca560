"""GET /health/projections and GET /projections name a failed projection, and one that lags
too long; GET /health (the load balancer's) stays 200, degraded: the API still serves."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import psycopg
import pytest
from falcon import testing
from http_support import Api, World, problem_type

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.tracking import projection_failures
from berth.domain.command_context import CommandContext
from berth.domain.projection_skip import skip_id
from berth.http import Services, Settings, create_app
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ApplyFailed, ProjectionRunner
from failure_support import poison_pool
from projection_support import Clock, cause


def record_failure(db_url: str, services: Services, world: World) -> int:
    """Run availability into a poison event and record its failure, as its worker does."""
    app = services.reservations
    _, bad = poison_pool(app, UUID(world.facility_id))
    projection = PROJECTIONS["availability"]
    with psycopg.connect(db_url) as conn:
        with pytest.raises(ApplyFailed) as failed:
            ProjectionRunner(db_url, projection, app.mapper).catch_up(conn)
        projection_failures.record(
            conn, projection="availability", position=bad, error=failed.value.error
        )
    return bad


def test_projection_health_is_red_naming_the_failed_projection_its_position_and_error(
    api: Api, world: World, services: Services, db_url: str
) -> None:
    bad = record_failure(db_url, services, world)

    serving = api.get("/health", who=None)
    assert serving.status_code == 200, serving.text
    assert (serving.json["status"], serving.json["database"]) == ("degraded", "ok")
    shown = {p["projection"]: p["state"] for p in serving.json["projections"]}
    assert shown["availability"] == "failed" and shown["bookings"] == "ok"

    answer = api.get("/health/projections", who=None)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem_type(answer) == "projection-failed"
    assert answer.json["failed"] == ["availability"]
    # Each member is what the OpenAPI Problem schema declares for it (projections: names).
    declared = api.get("/openapi.json", who=None).json["components"]["schemas"]["Problem"]
    assert {"failed", "statuses"} <= set(declared["properties"])
    assert all(isinstance(name, str) for name in answer.json.get("projections", []))
    assert answer.json["detail"].startswith(
        f"availability cannot apply the event at position {bad}"
        " (psycopg.errors.NumericValueOutOfRange:"
    )

    listed = api.get("/projections", who="operations")
    assert listed.status_code == 200
    states = {p["projection"]: p for p in listed.json["projections"]}
    assert states["availability"]["state"] == "failed"
    assert states["availability"]["failure"]["position"] == bad
    assert states["availability"]["failure"]["attempts"] == 1
    assert states["bookings"]["state"] == "ok" and states["bookings"]["failure"] is None


def test_projection_health_is_red_when_a_projection_lags_beyond_the_setting(
    db_url: str, services: Services
) -> None:
    long_ago = open_reservations(db_url, clock=Clock(datetime(2020, 1, 1, tzinfo=UTC)))
    try:  # an event five years old that no worker has applied
        long_ago.catalogue.register_facility(
            name="Harbour", time_zone="UTC", context=CommandContext(cause=cause())
        )
    finally:
        long_ago.close()
    strict = testing.TestClient(create_app(Settings(projection_max_lag_seconds=300), services))

    answer = strict.simulate_get("/health/projections")
    serving = strict.simulate_get("/health")

    assert (serving.status_code, serving.json["status"]) == (200, "degraded"), serving.text
    assert answer.status_code == 503, answer.text
    assert problem_type(answer) == "projection-lagging"
    assert set(answer.json["failed"]) == {
        "availability", "bookings", "ledger", "occupancy", "catalogue"
    }  # fmt: skip
    assert "more than 300 s" in answer.json["detail"]


def test_an_admin_retries_or_skips_a_failed_event_over_http(
    api: Api, world: World, services: Services, db_url: str
) -> None:
    bad = record_failure(db_url, services, world)
    base = "/projections/availability"

    assert api.post(f"{base}/retries", {"position": bad}, who="operations").status_code == 403
    retried = api.post(f"{base}/retries", {"position": bad})
    assert (retried.status_code, retried.json) == (
        200, {"projection": "availability", "retried": bad},
    )  # fmt: skip
    again = api.post(f"{base}/retries", {"position": bad})
    assert (again.status_code, problem_type(again)) == (404, "no-failure")

    skipped = api.post(f"{base}/skips", {"position": bad, "reason": "price overflow"})
    assert skipped.status_code == 201, skipped.text
    assert skipped.json["skipped"] == bad and skipped.json["position"] > bad
    skip = skip_id(projection="availability", position=bad)
    [event] = list(services.reservations.events.get(skip))
    assert event.cause["channel"] and event.cause["request_id"]  # type: ignore[attr-defined]
    twice = api.post(f"{base}/skips", {"position": bad, "reason": "again"})
    assert (twice.status_code, problem_type(twice)) == (409, "already-skipped")
    unknown = api.post("/projections/nonesuch/skips", {"position": bad, "reason": "x"})
    assert (unknown.status_code, problem_type(unknown)) == (404, "unknown-projection")
    blank = api.post(f"{base}/skips", {"position": 0, "reason": ""})
    assert (blank.status_code, problem_type(blank)) == (400, "invalid-request")

    with psycopg.connect(db_url) as conn:
        assert (
            ProjectionRunner(
                db_url, PROJECTIONS["availability"], services.reservations.mapper
            ).catch_up(conn)
            > bad
        )
