"""Metrics move with what the API does: commands by outcome, replays, gate decisions, routes."""

from __future__ import annotations

from http_support import Api, World, hold_body
from prometheus_client import REGISTRY
from test_http_gates import Lane


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_commands_replays_and_routes_are_counted(api: Api, world: World) -> None:
    ok = {"command": "POST /bookings", "outcome": "ok"}
    bad = {"command": "POST /bookings", "outcome": "invalid-request"}
    route = {"method": "POST", "route": "/bookings", "status": "201"}
    before = (
        sample("berth_commands_total", **ok),
        sample("berth_commands_total", **bad),
        sample("berth_idempotency_replays_total", command="POST /bookings"),
        sample("berth_http_request_duration_seconds_count", **route),
    )
    headers = {"Idempotency-Key": "metrics-1"}
    assert api.post("/bookings", hold_body(world), who="web", headers=headers).status_code == 201
    assert api.post("/bookings", hold_body(world), who="web", headers=headers).status_code == 201
    refused = api.post("/bookings", hold_body(world, quantity=0), who="web")
    assert refused.status_code == 400, refused.text
    assert refused.json["type"].endswith("/invalid-request")

    after = (
        sample("berth_commands_total", **ok),
        sample("berth_commands_total", **bad),
        sample("berth_idempotency_replays_total", command="POST /bookings"),
        sample("berth_http_request_duration_seconds_count", **route),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 1, 2]


def test_a_raw_path_is_never_a_label_only_its_route_template(api: Api, world: World) -> None:
    api.get(f"/bookings/{world.pool_id}")  # no such booking: 404 on a matched route
    api.get("/no/such/path/at/all")

    routes = {
        s.labels["route"]
        for metric in REGISTRY.collect()
        if metric.name == "berth_http_request_duration_seconds"
        for s in metric.samples
    }
    assert "/bookings/{booking_id:uuid}" in routes
    assert "unmatched" in routes
    assert not any(str(world.pool_id) in r or "no/such" in r for r in routes)


def test_a_gate_decision_is_timed_by_its_outcome(api: Api, world: World) -> None:
    lane = Lane(api, world, "entry")
    before = sample("berth_gate_decision_seconds_count", decision="deny")

    answer = lane.send(lane.body("ZZ 999 ZZ"))

    assert answer.status_code == 200, answer.text
    assert answer.json["decision"] == "deny"
    assert sample("berth_gate_decision_seconds_count", decision="deny") == before + 1


def test_metrics_are_served_without_a_key_with_the_stores_state(api: Api, world: World) -> None:
    api.post("/facilities", {"name": "Quay", "time_zone": "UTC"})

    answer = api.get("/metrics", who=None)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert 'berth_commands_total{command="POST /facilities",outcome="ok"}' in text
    assert "berth_store_up 1.0" in text
    assert 'berth_projection_lag_events{projection="bookings"}' in text
    assert 'berth_db_pool_connections{state="open"}' in text
    assert "/metrics" not in api.get("/openapi.json").json["paths"]
