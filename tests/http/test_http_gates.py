"""Gates over HTTP: signed plate reads get barrier decisions; occupancy and unmatched reads;
read ids and cameras scoped per facility; camera moves and re-keys."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from http_support import ARRIVAL, START, Api, Clock, World, hold, make_key, problem_type

from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.plate_read import PlateRead
from berth.domain.plates import normalise_plate
from berth.domain.stay import Stay
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

    def __init__(
        self,
        api: Api,
        world: World,
        direction: str,
        *,
        camera_id: str | None = None,
        device: str = "gate_device",
    ) -> None:
        self.api = api
        self.device = device
        gate = api.post(
            f"/facilities/{world.facility_id}/gates",
            {"name": f"{direction} 1", "direction": direction},
            who="operations",
        )
        assert gate.status_code == 201, gate.text
        self.gate_id = gate.json["id"]
        camera = api.post(
            f"/gates/{self.gate_id}/cameras",
            {"camera_id": camera_id or f"cam-{direction}"},
            who="operations",
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
            "captured_at": START.isoformat(),  # signed at START: within the tolerance
        }
        body.update(changes)
        return body

    def send(
        self,
        body: dict[str, Any],
        *,
        who: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
        gate_id: str | None = None,
        header: str | None = None,
    ) -> Any:
        raw = json.dumps(body).encode()
        stamp = int(START.timestamp()) if timestamp is None else timestamp
        signature = header or sign(secret or self.secret, stamp, raw)
        return self.api.client.simulate_post(
            f"/gates/{gate_id or self.gate_id}/reads",
            headers=self.api.headers(
                who or self.device, {HEADER: signature, "Content-Type": "application/json"}
            ),
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


@pytest.fixture
def second(api: Api, services: Services) -> World:
    """Another facility, with a pool and its own gate device key (`gate_device_2`)."""
    facility = api.post("/facilities", {"name": "Station car park", "time_zone": "Europe/London"})
    assert facility.status_code == 201, facility.text
    pool = api.post(
        f"/facilities/{facility.json['id']}/pools",
        {"name": "Short stay", "capacity": 5, "nightly_price": 900, "currency": "EUR"},
    )
    assert pool.status_code == 201, pool.text
    api.tokens["gate_device_2"] = make_key(services, "gate_device", facility.json["id"])
    return World(facility_id=facility.json["id"], pool_id=pool.json["id"])


def confirmed(api: Api, world: World, **changes: Any) -> dict[str, Any]:
    booking = hold(api, world, **changes)
    assert api.post(f"/bookings/{booking['id']}/confirm", {}, who="web").status_code == 200
    return booking


def stored_reads(services: Services) -> list[PlateRead.Recorded]:
    app = services.reservations
    events = (
        app.mapper.to_domain_event(n)
        for n in app.recorder.select_notifications(start=1, limit=100_000)
    )
    return [e for e in events if isinstance(e, PlateRead.Recorded)]


def test_the_same_read_id_at_two_facilities_is_decided_and_stored_at_each(
    api: Api, world: World, second: World, services: Services, projections: None
) -> None:
    here = confirmed(api, world)
    there = confirmed(api, second)
    entry_here = Lane(api, world, "entry")
    entry_there = Lane(api, second, "entry", camera_id="cam-2", device="gate_device_2")
    first = entry_here.send(entry_here.body("AB12CDE", read_id="0001"))
    other = entry_there.send(entry_there.body("AB12CDE", read_id="0001"))
    assert first.status_code == other.status_code == 200, other.text
    assert (first.json["booking_id"], first.json["duplicate"]) == (here["id"], False)
    assert (other.json["booking_id"], other.json["duplicate"]) == (there["id"], False)
    assert (other.json["decision"], other.json["reason"]) == ("open", "on-time")
    reads = [(r.facility_id, r.read_id) for r in stored_reads(services)]
    assert sorted(reads) == sorted([(UUID(world.facility_id), "0001"),
                                    (UUID(second.facility_id), "0001")])  # fmt: skip


def test_a_read_id_sent_again_with_another_plate_is_a_422_and_stores_nothing(
    entry: Lane, services: Services, booked: dict[str, Any], projections: None
) -> None:
    first = entry.send(entry.body("AB12CDE", read_id="r-1"))
    assert first.status_code == 200, first.text
    size = store_size(services)
    again = entry.send(entry.body("ZZ999ZZ", read_id="r-1"))
    assert again.status_code == 422, again.text
    assert problem_type(again) == "read-id-reused"
    assert store_size(services) == size


def test_two_facilities_may_both_have_a_camera_with_the_same_id(
    api: Api, world: World, second: World, entry: Lane, services: Services
) -> None:
    there = Lane(api, second, "entry", camera_id=entry.camera_id, device="gate_device_2")
    assert there.camera_id == entry.camera_id and there.secret != entry.secret
    # Each camera signs for its own facility's gate; the first kept its secret and gate.
    assert entry.send(entry.body("NOBODY1")).status_code == 200
    assert there.send(there.body("NOBODY2")).status_code == 200
    size = store_size(services)
    crossed = there.send(there.body("NOBODY3"), secret=entry.secret)
    assert (crossed.status_code, problem_type(crossed)) == (401, "bad-signature")
    wrong_key = there.send(there.body("NOBODY4"), who="gate_device")
    assert (wrong_key.status_code, problem_type(wrong_key)) == (403, "wrong-facility")
    assert store_size(services) == size


def test_registering_a_camera_id_again_at_its_facility_is_refused_and_keeps_its_secret(
    api: Api, world: World, entry: Lane, services: Services
) -> None:
    exit_gate = api.post(
        f"/facilities/{world.facility_id}/gates", {"name": "out", "direction": "exit"}
    ).json["id"]
    size = store_size(services)
    again = api.post(f"/gates/{exit_gate}/cameras", {"camera_id": entry.camera_id})
    assert (again.status_code, problem_type(again)) == (409, "camera-exists")
    assert store_size(services) == size
    assert entry.send(entry.body("NOBODY1")).status_code == 200


def test_a_camera_moves_between_its_facilitys_gates_as_an_event_and_not_to_another(
    api: Api, world: World, second: World, entry: Lane, services: Services
) -> None:
    exit_lane = Lane(api, world, "exit")
    path = f"/facilities/{world.facility_id}/cameras/{entry.camera_id}/move"
    moved = api.post(path, {"gate_id": exit_lane.gate_id}, who="operations")
    assert moved.status_code == 200, moved.text
    assert (moved.json["gate_id"], moved.json["version"]) == (exit_lane.gate_id, 2)
    camera = services.reservations.cameras.camera(UUID(world.facility_id), entry.camera_id)
    events = list(services.reservations.repository.event_store.get(camera.id))
    assert [type(e).__name__ for e in events] == ["Registered", "Moved"]
    assert events[1].cause["principal"] != ""  # type: ignore[attr-defined]
    at_old_gate = entry.send(entry.body("NOBODY1"))
    assert (at_old_gate.status_code, problem_type(at_old_gate)) == (401, "unknown-camera")
    assert entry.send(entry.body("NOBODY2"), gate_id=exit_lane.gate_id).status_code == 200
    their_gate = Lane(api, second, "entry", device="gate_device_2").gate_id
    size = store_size(services)
    refused = api.post(path, {"gate_id": their_gate}, who="operations")
    assert (refused.status_code, problem_type(refused)) == (409, "camera-at-another-facility")
    assert store_size(services) == size


def test_a_rekeyed_camera_accepts_both_secrets_during_the_grace_and_only_the_new_after(
    api: Api, world: World, entry: Lane, services: Services, clock: Clock
) -> None:
    old = entry.secret
    rekeyed = api.post(
        f"/facilities/{world.facility_id}/cameras/{entry.camera_id}/rekey", {}, who="operations"
    )
    assert rekeyed.status_code == 200, rekeyed.text
    new = rekeyed.json["secret"]
    assert new != old
    assert rekeyed.json["previous_valid_until"] == (START + timedelta(days=1)).isoformat()
    camera = services.reservations.cameras.camera(UUID(world.facility_id), entry.camera_id)
    events = list(services.reservations.repository.event_store.get(camera.id))
    assert [type(e).__name__ for e in events] == ["Registered", "Rekeyed"]
    assert entry.send(entry.body("NOBODY1"), secret=old).status_code == 200
    assert entry.send(entry.body("NOBODY2"), secret=new).status_code == 200
    both = entry.body("NOBODY3")
    stamp = int(START.timestamp())
    raw = json.dumps(both).encode()
    header = f"{sign(old, stamp, raw)},v1={sign(new, stamp, raw).partition(',v1=')[2]}"
    assert entry.send(both, header=header).status_code == 200

    clock.advance(timedelta(days=1, seconds=1))
    later = int(clock.now.timestamp())
    stale = entry.send(entry.body("NOBODY4", captured_at=clock.now.isoformat()), secret=old,
                       timestamp=later)  # fmt: skip
    assert (stale.status_code, problem_type(stale)) == (401, "bad-signature")
    fresh = entry.send(entry.body("NOBODY5", captured_at=clock.now.isoformat()), secret=new,
                       timestamp=later)  # fmt: skip
    assert fresh.status_code == 200, fresh.text


def test_a_plate_with_25_bookings_is_let_in_on_the_day_of_the_one_that_covers_it(
    api: Api, world: World, entry: Lane, services: Services, projections: None
) -> None:
    """A commuter books weeks ahead: today's booking is found among all of them."""
    app = services.reservations
    cause = Cause(principal="test", channel="web", request_id="r", correlation_id="c")
    booking_ids = []
    for n in range(25):  # today's booking first, then 24 later nights
        arrival = ARRIVAL + timedelta(days=2 * n)
        booking_id = app.bookings.hold(
            pool_id=UUID(world.pool_id),
            stay=Stay(arrival, arrival + timedelta(days=1)),
            quantity=1,
            guest={"name": "Commuter"},
            plates=["CM-25"],
            context=CommandContext(cause=cause),
        ).id
        booking_ids.append(booking_id)
        position = app.bookings.confirm(
            booking_id=booking_id, context=CommandContext(cause=cause)
        ).position
    assert api.get(f"/bookings/{booking_ids[-1]}?min_position={position}").status_code == 200
    answer = entry.send(entry.body("cm 25"))
    assert answer.status_code == 200, answer.text
    assert (answer.json["decision"], answer.json["reason"]) == ("open", "on-time")
    assert answer.json["booking_id"] == str(booking_ids[0])


@pytest.mark.parametrize(
    "offset", [timedelta(hours=-2), timedelta(seconds=301), timedelta(hours=3)],
    ids=["backdated by 2 h", "just beyond the tolerance", "dated ahead"],
)  # fmt: skip
def test_a_read_dated_outside_the_signature_tolerance_is_refused_and_stores_nothing(
    entry: Lane, services: Services, booked: dict[str, Any], offset: timedelta
) -> None:
    size = store_size(services)
    answer = entry.send(entry.body("AB12CDE", captured_at=(START + offset).isoformat()))
    assert answer.status_code == 422, answer.text
    assert problem_type(answer) == "captured-at-outside-signature"
    assert store_size(services) == size


def test_a_read_id_used_at_two_facilities_is_resolved_at_its_facility(
    api: Api, world: World, second: World, entry: Lane, booked: dict[str, Any],
    projections: None,
) -> None:  # fmt: skip
    there = Lane(api, second, "entry", device="gate_device_2")
    entry.send(entry.body("ZZ1", read_id="stray"))
    last = there.send(there.body("ZZ2", read_id="stray"))
    path = f"/facilities/{world.facility_id}/unmatched-reads?min_position={last.json['position']}"
    assert [r["read_id"] for r in api.get(path, who="operations").json["reads"]] == ["stray"]
    body = {"booking_id": booked["id"], "note": "by hand"}
    ambiguous = api.post("/reads/stray/resolve", body, who="operations")
    assert (ambiguous.status_code, problem_type(ambiguous)) == (409, "ambiguous-read-id")
    resolved = api.post(
        f"/facilities/{world.facility_id}/reads/stray/resolve", body, who="operations"
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json["facility_id"] == world.facility_id
    booking = api.get(f"/bookings/{booked['id']}?min_position={resolved.json['position']}")
    assert booking.json["status"] == "checked_in"


def test_a_camera_registered_before_0060_still_signs_and_its_first_move_records_it(
    api: Api, world: World, services: Services, entry: Lane
) -> None:
    """Such a camera has a secret row and no events: the row as 0040 code wrote it."""
    with services.pool.connection() as conn:
        conn.execute(
            "INSERT INTO gate_cameras (camera_id, gate_id, facility_id, secret)"
            " VALUES ('old-cam', %s, %s, 'old-secret')",
            (entry.gate_id, world.facility_id),
        )
    read = entry.body("NOBODY1", camera_id="old-cam")
    assert entry.send(read, secret="old-secret").status_code == 200
    exit_lane = Lane(api, world, "exit")
    moved = api.post(
        f"/facilities/{world.facility_id}/cameras/old-cam/move", {"gate_id": exit_lane.gate_id}
    )
    assert moved.status_code == 200, moved.text
    camera = services.reservations.cameras.camera(UUID(world.facility_id), "old-cam")
    events = list(services.reservations.repository.event_store.get(camera.id))
    assert [type(e).__name__ for e in events] == ["Registered", "Moved"]
    later = entry.body("NOBODY2", camera_id="old-cam")
    assert entry.send(later, secret="old-secret", gate_id=exit_lane.gate_id).status_code == 200


@pytest.mark.parametrize("read_id", ["nul%00", "cr%0D", "x" * 201])
def test_a_read_id_in_the_path_that_no_read_could_have_is_a_400(
    api: Api, world: World, booked: dict[str, Any], read_id: str
) -> None:
    """A NUL in the path reached PostgreSQL and answered 500."""
    body = {"booking_id": booked["id"], "note": "by hand"}
    for path in (
        f"/reads/{read_id}/resolve",
        f"/facilities/{world.facility_id}/reads/{read_id}/resolve",
    ):
        answer = api.post(path, body, who="operations")
        assert (answer.status_code, problem_type(answer)) == (400, "invalid-read-id"), path


@pytest.mark.parametrize("camera_id", ["nul%00", "tab%09", "x" * 101])
def test_a_camera_id_in_the_path_that_no_camera_could_have_is_a_400(
    api: Api, world: World, camera_id: str
) -> None:
    path = f"/facilities/{world.facility_id}/cameras/{camera_id}/rekey"
    answer = api.post(path, {}, who="operations")
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-camera-id")


def test_a_read_is_never_resolved_to_another_facilitys_booking(
    api: Api, world: World, second: World, booked: dict[str, Any], projections: None
) -> None:
    there = Lane(api, second, "entry", device="gate_device_2")
    last = there.send(there.body("ZZ9", read_id="theirs"))
    body = {"booking_id": booked["id"], "note": "by hand"}  # a booking of the first facility
    answer = api.post(
        f"/facilities/{second.facility_id}/reads/theirs/resolve", body, who="operations"
    )
    assert (answer.status_code, problem_type(answer)) == (409, "booking-at-another-facility")
    path = f"/facilities/{second.facility_id}/unmatched-reads?min_position={last.json['position']}"
    assert [r["read_id"] for r in api.get(path, who="operations").json["reads"]] == ["theirs"]


def test_a_rekey_with_no_grace_revokes_the_previous_secret_at_once(
    api: Api, world: World, entry: Lane, clock: Clock
) -> None:
    old = entry.secret
    path = f"/facilities/{world.facility_id}/cameras/{entry.camera_id}/rekey"
    too_long = api.post(path, {"grace_seconds": 30 * 24 * 3600 + 1}, who="operations")
    assert (too_long.status_code, problem_type(too_long)) == (400, "invalid-request")

    rekeyed = api.post(path, {"grace_seconds": 0}, who="operations")

    assert rekeyed.status_code == 200, rekeyed.text
    assert rekeyed.json["previous_valid_until"] == START.isoformat()
    clock.advance(timedelta(seconds=1))  # the next moment
    later = int(clock.now.timestamp())
    stale = entry.send(entry.body("NOBODY1", captured_at=clock.now.isoformat()), secret=old,
                       timestamp=later)  # fmt: skip
    assert (stale.status_code, problem_type(stale)) == (401, "bad-signature")
    fresh = entry.send(entry.body("NOBODY2", captured_at=clock.now.isoformat()),
                       secret=rekeyed.json["secret"], timestamp=later)  # fmt: skip
    assert fresh.status_code == 200, fresh.text
