"""The catalogue over HTTP: facilities, pools, gates and cameras as lists and items with ETags,
scoped to what a key may see; every Location a command answers resolves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from http_support import Api, World, hold, make_key, problem_type

from berth.http import Services


@pytest.fixture
def projections(app_db_url: str) -> Iterator[None]:
    """The catalogue and bookings projection workers, in background threads."""
    from berth.workers import run_worker  # noqa: PLC0415 - tests may import workers

    stop = threading.Event()
    threads = [
        threading.Thread(target=run_worker, args=(name, app_db_url, stop), daemon=True)
        for name in ("catalogue", "bookings")
    ]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


def created(answer: Any) -> Any:
    assert answer.status_code == 201, answer.text
    return answer


def follow(api: Api, answer: Any, who: str = "admin") -> Any:
    """GET the answer's Location once the read models have its position."""
    location = answer.headers["location"]
    position = answer.json.get("position")
    params = {"min_position": position} if position is not None else None
    return api.get(location, who=who, params=params)


def test_every_location_a_command_answers_resolves(
    api: Api, world: World, projections: None
) -> None:
    facility = created(api.post("/facilities", {"name": "Marina", "time_zone": "Europe/Paris"}))
    pool = created(
        api.post(
            f"/facilities/{facility.json['id']}/pools",
            {"name": "Berths", "capacity": 12, "nightly_price": 4500, "currency": "EUR"},
        )
    )
    gate = created(
        api.post(
            f"/facilities/{facility.json['id']}/gates",
            {"name": "Quay", "direction": "entry"},
            who="operations",
        )
    )
    camera = created(api.post(f"/gates/{gate.json['id']}/cameras", {"camera_id": "cam 1?a"}))
    booking = created(
        api.post(
            "/bookings",
            {
                "pool_id": pool.json["id"],
                "arrival": "2030-06-01",
                "departure": "2030-06-02",
                "quantity": 1,
                "guest": {"name": "Ada Lovelace"},
            },
            who="web",
        )
    )
    key = created(api.post("/apikeys", {"role": "auditor"}))
    answers = [facility, pool, gate, camera, booking, key]
    assert camera.headers["location"].endswith("/cameras/cam%201%3Fa")
    slash = api.post(f"/gates/{gate.json['id']}/cameras", {"camera_id": "cam/2"})
    assert (slash.status_code, problem_type(slash)) == (400, "invalid-request")
    for answer in answers:
        shown = follow(api, answer)
        assert shown.status_code == 200, (answer.headers["location"], shown.text)
        if "version" in answer.json:  # the facility moved on: its first pool set its currency
            assert shown.json["version"] >= answer.json["version"]
            assert shown.headers["etag"] == f'"{shown.json["version"]}"'
    assert follow(api, camera).json["gate_id"] == gate.json["id"]
    assert follow(api, key).json["key_id"] == key.json["key_id"]


def test_a_pool_shows_what_it_has_now_and_its_etag_serves_if_match(
    api: Api, world: World, projections: None
) -> None:
    pool_path = f"/pools/{world.pool_id}"
    taxed = api.post(f"{pool_path}/tax-rate", {"rate_bp": 2000}, who="finance")
    assert taxed.status_code == 200, taxed.text
    tariff = api.put(f"{pool_path}/overstay-tariff", {"hourly": 400})
    assert tariff.status_code == 200, tariff.text
    shown = api.get(pool_path, who="web", params={"min_position": tariff.json["position"]})
    assert shown.status_code == 200, shown.text
    assert shown.json | {"created_at": None, "modified_at": None} == {
        "id": world.pool_id, "facility_id": world.facility_id, "name": "Long stay",
        "capacity": 5, "nightly_price": 1200, "currency": "EUR", "tax_rate_bp": 2000,
        "time_zone": "Europe/London", "overstay_hourly": 400,
        "cancellation": {"free_until_hours": 48, "fee_percent": 100},
        "version": tariff.json["version"], "position": tariff.json["position"],
        "created_at": None, "modified_at": None,
    }  # fmt: skip
    changed = api.put(
        f"{pool_path}/capacity",
        {"first_night": "2030-06-01", "last_night": "2030-06-02", "capacity": 9},
        headers={"If-Match": shown.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    again = api.get(pool_path, params={"min_position": changed.json["position"]})
    assert again.json["version"] == changed.json["version"] == shown.json["version"] + 1
    facility = api.get(f"/facilities/{world.facility_id}", who="finance")
    assert facility.json["currency"] == "EUR"
    assert facility.headers["etag"] == f'"{facility.json["version"]}"'


def test_lists_page_by_an_opaque_cursor_and_a_next_link_to_the_end(
    api: Api, world: World, projections: None
) -> None:
    last = None
    for n in range(3):
        last = created(api.post("/facilities", {"name": f"Site {n}", "time_zone": "UTC"}))
    assert last is not None
    path, params = "/facilities", {"limit": 2, "min_position": last.json["position"]}
    seen: list[str] = []
    while True:
        page = api.get(path, who="web", params=params)
        assert page.status_code == 200, page.text
        assert len(page.json["facilities"]) <= 2
        seen += [f["id"] for f in page.json["facilities"]]
        if page.json["next"] is None:
            assert page.json["next_cursor"] is None
            break
        assert f"cursor={page.json['next_cursor']}" in page.json["next"]
        path, _, query = page.json["next"].partition("?")
        params = None
        path = f"{path}?{query}"
    assert len(seen) == 5 == len(set(seen))
    assert seen == sorted(seen)
    bad = api.get("/facilities", params={"cursor": "not a cursor!"})
    assert (bad.status_code, problem_type(bad)) == (400, "invalid-cursor")
    pools = api.get(f"/facilities/{world.facility_id}/pools", who="reseller")
    assert [p["id"] for p in pools.json["pools"]] == [world.pool_id]
    everywhere = api.get("/pools", params={"facility_id": world.facility_id})
    assert everywhere.json["pools"] == pools.json["pools"]


def test_a_gate_device_sees_only_its_facility_and_a_booking_key_no_gates(
    api: Api, world: World, services: Services, projections: None
) -> None:
    other = created(api.post("/facilities", {"name": "Elsewhere", "time_zone": "UTC"}))
    gate = created(
        api.post(f"/facilities/{world.facility_id}/gates", {"name": "In", "direction": "entry"})
    )
    far_gate = created(
        api.post(f"/facilities/{other.json['id']}/gates", {"name": "Out", "direction": "exit"})
    )
    camera = created(api.post(f"/gates/{gate.json['id']}/cameras", {"camera_id": "cam-1"}))
    created(api.post(f"/gates/{far_gate.json['id']}/cameras", {"camera_id": "cam-1"}))
    wait = {"min_position": api.get("/projections").json["projections"][0]["head"]}

    listed = api.get("/facilities", who="gate_device", params=wait)
    assert [f["id"] for f in listed.json["facilities"]] == [world.facility_id]
    for path in (
        f"/facilities/{other.json['id']}",
        f"/gates/{far_gate.json['id']}",
        f"/facilities/{other.json['id']}/cameras/cam-1",
        f"/facilities/{other.json['id']}/gates",
    ):
        hidden = api.get(path, who="gate_device", params=wait)
        assert hidden.status_code == 404, (path, hidden.text)
    own = api.get(f"/facilities/{world.facility_id}/cameras", who="gate_device", params=wait)
    assert [c["camera_id"] for c in own.json["cameras"]] == ["cam-1"]
    shown = api.get(f"/facilities/{world.facility_id}/cameras/cam-1", who="operations")
    assert "secret" not in shown.json and camera.json["secret"] not in shown.text
    assert shown.json["gate_id"] == gate.json["id"]
    for path in (f"/gates/{gate.json['id']}", f"/facilities/{world.facility_id}/gates"):
        assert api.get(path, who="web").status_code == 403
    auditor = make_key(services, "auditor")
    api.tokens["auditor2"] = auditor
    gates = api.get(f"/facilities/{world.facility_id}/gates", who="auditor2")
    assert [g["id"] for g in gates.json["gates"]] == [gate.json["id"]]


def test_unknown_or_malformed_ids_are_named_problems(api: Api, world: World) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for path, code in (
        (f"/facilities/{missing}", "unknown-facility"),
        (f"/facilities/{missing}/pools", "unknown-facility"),
        (f"/pools/{missing}", "unknown-pool"),
        (f"/gates/{missing}", "unknown-gate"),
        (f"/facilities/{world.facility_id}/cameras/nope", "unknown-camera"),
        ("/apikeys/nope", "unknown-key"),
    ):
        answer = api.get(path)
        assert (answer.status_code, problem_type(answer)) == (404, code), path
    long_id = api.get(f"/facilities/{world.facility_id}/cameras/{'x' * 101}")
    assert (long_id.status_code, problem_type(long_id)) == (400, "invalid-camera-id")
    hold(api, world)  # the world is usable: nothing above changed it
