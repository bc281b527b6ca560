"""One booking representation: every command's answer and GET /bookings/{id} agree field for field.

The projections are caught up by hand (no worker threads), so each GET reads
exactly what the commands so far wrote.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from http_support import Api, Clock, World, hold, hold_body, problem_type

from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.http import Services
from berth.http.signatures import HEADER, sign
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner

ANSWER_ONLY = ("payment_id", "refund_id")  # the id a payment or refund command answers with


def catch_up(db_url: str, services: Services) -> None:
    for name in ("bookings", "ledger", "occupancy"):
        runner = ProjectionRunner(db_url, PROJECTIONS[name], services.reservations.mapper)
        with psycopg.connect(db_url) as conn:
            runner.catch_up(conn)


class Agreement:
    """Checks each booking command's answer against GET, the list and the statement."""

    def __init__(self, api: Api, db_url: str, services: Services) -> None:
        self.api = api
        self.db_url = db_url
        self.services = services

    def check(self, answer: Any) -> dict[str, Any]:
        assert answer.status_code in (200, 201), answer.text
        catch_up(self.db_url, self.services)
        body = {k: v for k, v in answer.json.items() if k not in ANSWER_ONLY}
        got = self.api.get(f"/bookings/{body['id']}?min_position={body['position']}")
        assert got.status_code == 200, got.text
        assert got.json == body
        assert got.headers["etag"] == answer.headers["etag"]
        self.check_query(body)
        return body

    def check_query(self, body: dict[str, Any]) -> None:
        """The list shows the booking as GET does; the statement's balance due is the same."""
        listed = self.api.get(f"/bookings?facility_id={body['facility_id']}&limit=100")
        assert listed.status_code == 200, listed.text
        assert [b for b in listed.json["bookings"] if b["id"] == body["id"]] == [body]
        statement = self.api.get(f"/ledger/bookings/{body['id']}/statement", who="finance")
        assert statement.status_code == 200, statement.text
        assert statement.json["balance_due"] == body["balance_due"]


class Lane:
    """A gate with a camera; reads are signed at the clock's time."""

    def __init__(self, api: Api, world: World, clock: Clock, direction: str) -> None:
        self.api = api
        self.clock = clock
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

    def read(self, plate: str, captured_at: datetime) -> dict[str, Any]:
        self.count += 1
        self.clock.now = captured_at  # a camera signs what it has just seen
        raw = json.dumps(
            {
                "read_id": f"{self.camera_id}-{self.count}",
                "camera_id": self.camera_id,
                "plate": plate,
                "confidence": 0.91,
                "captured_at": captured_at.isoformat(),
            }
        ).encode()
        signature = sign(self.secret, int(self.clock().timestamp()), raw)
        answer = self.api.client.simulate_post(
            f"/gates/{self.gate_id}/reads",
            headers=self.api.headers(
                "gate_device", {HEADER: signature, "Content-Type": "application/json"}
            ),
            body=raw,
        )
        assert answer.status_code in (200, 201), answer.text
        result: dict[str, Any] = answer.json
        return result


def test_every_command_answers_the_booking_as_get_shows_it_through_an_overstay_and_a_refund(
    api: Api, world: World, db_url: str, services: Services, clock: Clock
) -> None:
    same = Agreement(api, db_url, services)
    tariff = api.put(f"/pools/{world.pool_id}/overstay-tariff", {"hourly": 400})
    assert tariff.status_code == 200, tariff.text
    entry, exit_ = (Lane(api, world, clock, d) for d in ("entry", "exit"))

    held = same.check(api.post("/bookings", hold_body(world, quantity=2), who="web"))
    booking_id, path = held["id"], f"/bookings/{held['id']}"
    assert (held["status"], held["nights"], held["total"]) == ("held", 2, 4800)
    assert (held["charges"], held["balance_due"]) == (0, 0)  # a hold is not charged yet
    assert "hold_expires_at" in held
    assert "cancellation_fee" not in held

    amended = same.check(
        api.post(
            f"{path}/amend",
            {
                "arrival": held["arrival"],
                "departure": held["departure"],
                "quantity": 1,
                "guest": {"given_name": "Ada", "family_name": "Lovelace"},
                "plates": held["plates"],
            },
            who="web",
        )
    )
    assert amended["total"] == 2400
    confirmed = same.check(api.post(f"{path}/confirm", who="web"))
    assert (confirmed["charges"], confirmed["balance_due"]) == (2400, 2400)
    assert "hold_expires_at" not in confirmed
    paid = api.post(
        f"{path}/payments", {"amount": 2400, "currency": "EUR", "method": "card"}, who="web"
    )
    assert paid.json["payment_id"]
    assert same.check(paid)["balance_due"] == 0

    catch_up(db_url, services)
    assert entry.read("AB12 CDE", datetime(2030, 6, 1, 10, 0, tzinfo=UTC))["open"]
    # The stay ends at local midnight after 3 June (23:00 UTC), grace 30 minutes:
    # leaving at 01:10 UTC is 3 started hours at 4.00.
    clock.now = datetime(2030, 6, 4, 1, 15, tzinfo=UTC)
    catch_up(db_url, services)
    denied = exit_.read("AB12 CDE", datetime(2030, 6, 4, 1, 10, tzinfo=UTC))
    assert (denied["open"], denied["reason"]) == (False, "balance-due")
    catch_up(db_url, services)
    after_exit = api.get(path)
    assert after_exit.json["status"] == "checked_in"
    assert after_exit.json["overstay_charged"] == 1200
    assert (after_exit.json["charges"], after_exit.json["paid"]) == (3600, 2400)
    assert after_exit.json["balance_due"] == 1200
    same.check_query(after_exit.json)

    overstay_paid = api.post(
        f"{path}/payments", {"amount": 1700, "currency": "EUR", "method": "card"}, who="web"
    )
    assert same.check(overstay_paid)["balance_due"] == -500
    refund = api.post(
        f"{path}/refunds",
        {"amount": 500, "currency": "EUR", "reason": "overpaid"},
        who="web",
    )
    refund_id = refund.json["refund_id"]
    pending = same.check(refund)
    assert pending["pending_refunds"] == [{"refund_id": refund_id, "amount": 500}]
    settled = same.check(
        api.post(
            f"{path}/refunds/{refund_id}/settle",
            {"succeeded": True, "reason": "card refund"},
            who="finance",
        )
    )
    assert (settled["refunded"], settled["pending_refunds"], settled["balance_due"]) == (
        500,
        [],
        0,
    )
    assert settled["id"] == booking_id


def test_a_cancelled_booking_shows_its_fee_and_an_expired_one_owes_nothing(
    api: Api, world: World, db_url: str, services: Services, clock: Clock
) -> None:
    same = Agreement(api, db_url, services)
    cancelled = hold(api, world)
    confirmed = same.check(api.post(f"/bookings/{cancelled['id']}/confirm", who="web"))
    paid = api.post(
        f"/bookings/{cancelled['id']}/payments",
        {"amount": 1000, "currency": "EUR", "method": "card"},
        who="web",
    )
    same.check(paid)
    gone = same.check(
        api.post(f"/bookings/{cancelled['id']}/cancel", {"reason": "plans changed"}, who="web")
    )
    assert gone["status"] == "cancelled"
    assert gone["charges"] == gone["cancellation_fee"]
    assert gone["balance_due"] == gone["cancellation_fee"] - 1000
    assert confirmed["total"] == gone["total"]
    assert "hold_expires_at" not in gone

    expiring = same.check(api.post("/bookings", hold_body(world), who="web"))
    paid_hold = same.check(
        api.post(
            f"/bookings/{expiring['id']}/payments",
            {"amount": 700, "currency": "EUR", "method": "card"},
            who="web",
        )
    )
    assert paid_hold["balance_due"] == -700  # paid before it is charged: owed to the guest
    clock.advance(timedelta(hours=1))
    cause = Cause(principal="test", channel="operations", request_id="r", correlation_id="r")
    result = services.reservations.bookings.expire(
        booking_id=expiring["id"], context=CommandContext(cause=cause)
    )
    catch_up(db_url, services)
    expired = api.get(f"/bookings/{expiring['id']}?min_position={result.position}").json
    assert expired["status"] == "expired"
    assert (expired["charges"], expired["balance_due"]) == (0, -700)
    assert "hold_expires_at" not in expired
    assert "cancellation_fee" not in expired
    same.check_query(expired)


def test_arrivals_list_the_booking_as_get_shows_it(
    api: Api, world: World, db_url: str, services: Services
) -> None:
    booking = api.post(f"/bookings/{hold(api, world)['id']}/confirm", who="web").json
    catch_up(db_url, services)
    got = api.get(f"/bookings/{booking['id']}").json
    arrivals = api.get(
        f"/facilities/{world.facility_id}/arrivals?date={booking['arrival']}", who="operations"
    )
    assert arrivals.status_code == 200, arrivals.text
    assert arrivals.json["bookings"] == [got] == [booking]


def test_a_booking_key_reads_the_statements_of_its_own_channels_bookings_only(
    api: Api, world: World, db_url: str, services: Services
) -> None:
    mine = api.post(f"/bookings/{hold(api, world, who='web')['id']}/confirm", who="web").json
    theirs = hold(api, world, who="reseller")
    catch_up(db_url, services)
    own = api.get(
        f"/ledger/bookings/{mine['id']}/statement?min_position={mine['position']}", who="web"
    )
    assert own.status_code == 200, own.text
    assert own.json["balance_due"] == mine["balance_due"] == 2400
    for who, booking_id in (("reseller", mine["id"]), ("web", theirs["id"])):
        other = api.get(f"/ledger/bookings/{booking_id}/statement", who=who)
        assert (other.status_code, problem_type(other)) == (404, "unknown-booking")
    assert api.get(f"/ledger/bookings/{theirs['id']}/statement", who="finance").status_code == 200
