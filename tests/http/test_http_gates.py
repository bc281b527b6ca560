"""Gates over HTTP: signed plate reads get barrier decisions; occupancy and unmatched reads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from http_support import START, Api, World, hold, problem_type

from berth.domain.plates import normalise_plate
from berth.http import Services
from berth.http.signatures import HEADER, sign


@pytest.fixture
def projections(db_url: str) -> Iterator[None]:
    """The bookings and occupancy projection workers, in background threads."""
    from berth.workers import run_worker  # noqa: PLC0415 - tests may import workers

    stop = threading.Event()
    threads = [
        threading.Thread(target=run_worker, args=(name, db_url, stop), daemon=True)
        for name in ("bookings", "occupancy")
    ]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


class Lane:
    """A gate with a registered camera, sending signed reads as a gate device."""

    def __init__(self, api: Api, world: World, direction: str) -> None:
        self.api = api
        gate = api.post(
            f"/facilities/{world.facility_id}/gates",
            {"name": f"{direction} 1", "direction": direction},
            who="operations",
        )
        assert gate.status_code == 201, gate.text
        self.gate_id = gate.json["id"]
        camera = api.post(
            f"/gates/{self.gate_id}/cameras", {"camera_id": f"cam-{direction}"}, who="operations"
        )
        assert camera.status_code == 201, camera.text
        self.camera_id, self.secret = camera.json["camera_id"], camera.json["secret"]
        self.count = 0

    def body(self, plate: str, **changes: Any) -> dict[str, Any]:
        self.count += 1
        body = {
            "read_id": f"{self.camera_id}-{self.count}",
            "camera_id": self.camera_id,
            "plate": plate,
            "confidence": 0.91,
            "captured_at": "2030-06-01T10:00:00+00:00",
        }
        body.update(changes)
        return body

    def send(
        self,
        body: dict[str, Any],
        *,
        who: str = "gate_device",
        timestamp: int | None = None,
        secret: str | None = None,
        gate_id: str | None = None,
    ) -> Any:
        raw = json.dumps(body).encode()
        stamp = int(START.timestamp()) if timestamp is None else timestamp
        signature = sign(secret or self.secret, stamp, raw)
        return self.api.client.simulate_post(
            f"/gates/{gate_id or self.gate_id}/reads",
            headers=self.api.headers(who, {HEADER: signature, "Content-Type": "application/json"}),
            body=raw,
        )


def store_size(services: Services) -> int:
    return services.reservations.recorder.max_notification_id() or 0


@pytest.fixture
def booked(api: Api, world: World) -> dict[str, Any]:
    """A confirmed, paid booking for plate AB12 CDE, arriving 1 June 2030."""
    booking = hold(api, world)
    assert api.post(f"/bookings/{booking['id']}/confirm", {}, who="web").status_code == 200
    paid = api.post(
        f"/bookings/{booking['id']}/payments",
        {"amount": booking["total"], "currency": "EUR", "method": "card"},
        who="web",
    )
    assert paid.status_code == 200, paid.text
    return booking


@pytest.fixture
def entry(api: Api, world: World) -> Lane:
    return Lane(api, world, "entry")


def test_a_signed_read_of_a_booked_plate_opens_the_barrier_and_checks_in(
    api: Api, world: World, entry: Lane, booked: dict[str, Any], projections: None
) -> None:
    answer = entry.send(entry.body("ab-12 cde"))
    assert answer.status_code == 200, answer.text
    assert answer.json["decision"] == "open"
    assert answer.json["reason"] == "on-time"
    assert answer.json["booking_id"] == booked["id"]
    booking = api.get(f"/bookings/{booked['id']}?min_position={answer.json['position']}")
    assert booking.json["status"] == "checked_in"
    occupancy = api.get(
        f"/facilities/{world.facility_id}/occupancy?min_position={answer.json['position']}",
        who="operations",
    )
    assert occupancy.status_code == 200, occupancy.text
    assert occupancy.json["on_site"] == 1
    assert occupancy.json["vehicles"][0]["booking_id"] == booked["id"]


def test_the_same_read_twice_is_stored_once_with_the_first_decision(
    entry: Lane, services: Services, booked: dict[str, Any], projections: None
) -> None:
    body = entry.body("AB12CDE")
    first = entry.send(body)
    size = store_size(services)
    again = entry.send(body)
    assert (again.json["decision"], again.json["duplicate"]) == ("open", True)
    assert first.json["duplicate"] is False
    assert store_size(services) == size


def test_an_unknown_plate_is_denied_listed_as_unmatched_and_resolved_by_hand(
    api: Api, world: World, entry: Lane, booked: dict[str, Any], projections: None
) -> None:
    answer = entry.send(entry.body("ZZ 999 ZZ"))
    assert (answer.json["decision"], answer.json["reason"]) == ("deny", "unknown-plate")
    path = f"/facilities/{world.facility_id}/unmatched-reads"
    unmatched = api.get(f"{path}?min_position={answer.json['position']}", who="operations")
    assert [r["plate"] for r in unmatched.json["reads"]] == ["ZZ 999 ZZ"]
    read_id = unmatched.json["reads"][0]["read_id"]
    resolved = api.post(
        f"/reads/{read_id}/resolve",
        {"booking_id": booked["id"], "note": "muddy plate"},
        who="operations",
    )
    assert resolved.status_code == 200, resolved.text
    after = api.get(f"{path}?min_position={resolved.json['position']}", who="operations")
    assert after.json["reads"] == []
    booking = api.get(f"/bookings/{booked['id']}?min_position={resolved.json['position']}")
    assert booking.json["status"] == "checked_in"


@pytest.mark.parametrize(
    ("change", "status", "kind"),
    [
        ({"secret": "not-the-secret"}, 401, "bad-signature"),
        ({"timestamp": int(START.timestamp()) - 3600}, 401, "bad-signature"),
        ({"who": "other_gate"}, 403, "wrong-facility"),
        ({"who": "web"}, 403, "forbidden"),
    ],
    ids=["bad signature", "stale timestamp", "another facility's key", "a booking key"],
)
def test_a_badly_authorised_read_is_refused_and_stores_nothing(
    entry: Lane, services: Services, booked: dict[str, Any], change: dict[str, Any],
    status: int, kind: str,
) -> None:  # fmt: skip
    size = store_size(services)
    answer = entry.send(entry.body("AB12CDE"), **change)
    assert answer.status_code == status, answer.text
    assert problem_type(answer) == kind
    assert store_size(services) == size


@pytest.mark.parametrize(
    "body_change",
    [{"confidence": 7}, {"captured_at": "yesterday"}, {"plate": ""}, {"speed": 30}],
    ids=["confidence out of range", "bad time", "empty plate", "unknown field"],
)
def test_a_malformed_read_is_a_400_and_stores_nothing(
    entry: Lane, services: Services, body_change: dict[str, Any]
) -> None:
    size = store_size(services)
    answer = entry.send(entry.body(**({"plate": "AB12CDE"} | body_change)))
    assert answer.status_code == 400, answer.text
    assert store_size(services) == size


def test_a_read_for_an_unknown_gate_is_a_404(entry: Lane, world: World) -> None:
    answer = entry.send(entry.body("AB12CDE"), gate_id=world.pool_id)
    assert answer.status_code == 404, answer.text


def test_a_camera_registered_elsewhere_is_refused(api: Api, world: World, entry: Lane) -> None:
    exit_lane = Lane(api, world, "exit")
    answer = entry.send(entry.body("AB12CDE", camera_id=exit_lane.camera_id))
    assert answer.status_code == 401
    assert problem_type(answer) == "unknown-camera"


def test_the_database_normalises_plates_as_the_domain_does(db_url: str) -> None:
    plates = ["ab-12 cde", "AB.12.CDE", "x_y/z·1", "  lower  case "]
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT berth_normalise_plates(%s::jsonb)", (json.dumps(plates),)
        ).fetchone()
    assert row is not None
    assert row[0] == [normalise_plate(p) for p in plates]
