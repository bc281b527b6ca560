"""Command endpoints: each answers with the resource, its version and position, or a problem."""

from __future__ import annotations

from datetime import timedelta

from http_support import ARRIVAL, Api, Clock, World, hold, hold_body, problem_type


def test_registering_a_facility_answers_201_with_location_etag_version_and_position(api: Api):
    answer = api.post("/facilities", {"name": " Marina ", "time_zone": "Europe/Paris"})
    assert answer.status_code == 201
    body = answer.json
    assert body["name"] == "Marina" and body["time_zone"] == "Europe/Paris"
    assert body["version"] == 1 and body["position"] >= 1
    assert answer.headers["location"] == f"/facilities/{body['id']}"
    assert answer.headers["etag"] == '"1"'


def test_an_unknown_time_zone_is_a_400(api: Api):
    answer = api.post("/facilities", {"name": "Marina", "time_zone": "Mars/Olympus"})
    assert answer.status_code == 400
    assert problem_type(answer) == "unknown-time-zone"


def test_a_pool_is_added_to_a_facility(api: Api, world: World):
    answer = api.post(
        f"/facilities/{world.facility_id}/pools",
        {
            "name": "Short stay",
            "capacity": 10,
            "nightly_price": 900,
            "currency": "EUR",
            "cancellation": {"free_until_hours": 24, "fee_percent": 50},
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.json["facility_id"] == world.facility_id
    assert answer.json["time_zone"] == "Europe/London"
    assert answer.json["cancellation"] == {"free_until_hours": 24, "fee_percent": 50}


def test_a_pool_of_an_unknown_facility_is_a_404(api: Api):
    body = {"name": "P", "capacity": 1, "nightly_price": 1, "currency": "EUR"}
    answer = api.post("/facilities/00000000-0000-4000-8000-000000000000/pools", body)
    assert answer.status_code == 404
    assert problem_type(answer) == "unknown-facility"


def test_a_pool_in_another_currency_than_the_facilitys_is_a_409(api: Api, world: World):
    body = {"name": "P", "capacity": 1, "nightly_price": 1, "currency": "GBP"}
    answer = api.post(f"/facilities/{world.facility_id}/pools", body)
    assert (answer.status_code, problem_type(answer)) == (409, "mixed-currency")


def test_an_unknown_currency_is_a_400(api: Api, world: World):
    body = {"name": "P", "capacity": 1, "nightly_price": 1, "currency": "XXX"}
    answer = api.post(f"/facilities/{world.facility_id}/pools", body)
    assert answer.status_code == 400
    assert problem_type(answer) == "unknown-currency"


def test_capacity_changes_for_a_range_of_nights_and_honours_if_match(api: Api, world: World):
    body = {"first_night": "2030-06-01", "last_night": "2030-06-02", "capacity": 8}
    stale = api.put(f"/pools/{world.pool_id}/capacity", body, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert problem_type(stale) == "stale-version"
    answer = api.put(f"/pools/{world.pool_id}/capacity", body, headers={"If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    assert answer.json["version"] == 2
    assert answer.headers["etag"] == '"2"'


def test_capacity_below_what_is_sold_is_a_409(api: Api, world: World):
    hold(api, world, quantity=3)
    body = {"first_night": "2030-06-01", "last_night": "2030-06-01", "capacity": 2}
    answer = api.put(f"/pools/{world.pool_id}/capacity", body)
    assert answer.status_code == 409
    assert problem_type(answer) == "capacity-below-sold"


def test_a_hold_answers_the_booking_in_the_keys_channel(api: Api, world: World):
    answer = api.post("/bookings", hold_body(world, quantity=2), who="web")
    assert answer.status_code == 201, answer.text
    booking = answer.json
    assert booking["status"] == "held"
    assert booking["channel"] == "web"
    assert booking["total"] == 2 * 2 * 1200
    # A hold is not charged yet, as on its ledger statement.
    assert (booking["charges"], booking["balance_due"]) == (0, 0)
    assert booking["plates"] == ["AB12 CDE"]
    assert answer.headers["location"] == f"/bookings/{booking['id']}"
    assert answer.headers["etag"] == f'"{booking["version"]}"'


def test_an_operations_hold_is_in_the_operations_channel(api: Api, world: World):
    assert hold(api, world, who="operations")["channel"] == "operations"


def test_holding_more_than_remains_is_a_409_no_capacity(api: Api, world: World):
    hold(api, world, quantity=4)
    answer = api.post("/bookings", hold_body(world, quantity=2))
    assert answer.status_code == 409
    assert problem_type(answer) == "no-capacity"


def test_holding_in_an_unknown_pool_is_a_404(api: Api, world: World):
    answer = api.post("/bookings", hold_body(world, pool_id="00000000-0000-4000-8000-000000000001"))
    assert answer.status_code == 404
    assert problem_type(answer) == "unknown-pool"


def test_a_stay_in_the_past_and_dates_out_of_order_are_400s(api: Api, world: World):
    past = api.post("/bookings", hold_body(world, arrival="2030-05-01", departure="2030-05-02"))
    assert (past.status_code, problem_type(past)) == (400, "stay-in-past")
    backwards = api.post(
        "/bookings", hold_body(world, arrival="2030-06-03", departure="2030-06-01")
    )
    assert (backwards.status_code, problem_type(backwards)) == (400, "dates-out-of-order")


def test_confirm_then_confirm_again_is_a_409_illegal_transition(api: Api, world: World):
    booking = hold(api, world)
    confirmed = api.post(f"/bookings/{booking['id']}/confirm", who="web")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json["status"] == "confirmed"
    assert confirmed.json["version"] == booking["version"] + 1
    again = api.post(f"/bookings/{booking['id']}/confirm", {}, who="web")
    assert again.status_code == 409
    assert problem_type(again) == "illegal-transition"


def test_confirming_an_expired_hold_is_a_409(api: Api, world: World, clock: Clock):
    booking = hold(api, world, hold_minutes=5)
    clock.advance(timedelta(minutes=6))
    answer = api.post(f"/bookings/{booking['id']}/confirm")
    assert (answer.status_code, problem_type(answer)) == (409, "hold-expired")


def test_if_match_makes_a_booking_command_conditional(api: Api, world: World):
    booking = hold(api, world)
    path = f"/bookings/{booking['id']}/confirm"
    stale = api.post(path, headers={"If-Match": f'"{booking["version"] - 1}"'})
    assert (stale.status_code, problem_type(stale)) == (412, "stale-version")
    malformed = api.post(path, headers={"If-Match": "yesterday"})
    assert (malformed.status_code, problem_type(malformed)) == (400, "invalid-if-match")
    current = api.post(path, headers={"If-Match": f'"{booking["version"]}"'})
    assert current.status_code == 200


def test_if_match_on_a_creation_is_refused(api: Api, world: World):
    answer = api.post("/bookings", hold_body(world), headers={"If-Match": '"1"'})
    assert (answer.status_code, problem_type(answer)) == (400, "if-match-not-supported")


def test_amend_changes_the_terms_and_the_total(api: Api, world: World):
    booking = hold(api, world)
    answer = api.post(f"/bookings/{booking['id']}/amend", {"quantity": 2, "plates": []})
    assert answer.status_code == 200, answer.text
    assert answer.json["quantity"] == 2
    assert answer.json["total"] == 2 * booking["total"]
    assert answer.json["plates"] == []


def test_an_empty_amendment_is_a_400(api: Api, world: World):
    booking = hold(api, world)
    answer = api.post(f"/bookings/{booking['id']}/amend", {})
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request")


def test_cancel_records_the_reason_and_frees_the_booking(api: Api, world: World):
    booking = hold(api, world)
    answer = api.post(f"/bookings/{booking['id']}/cancel", {"reason": "changed plans"})
    assert answer.status_code == 200
    assert answer.json["status"] == "cancelled"


def test_payments_and_refunds(api: Api, world: World):
    booking = hold(api, world)
    path = f"/bookings/{booking['id']}"
    paid = api.post(f"{path}/payments", {"amount": 1000, "currency": "EUR", "method": "card"})
    assert paid.status_code == 200, paid.text
    assert paid.json["paid"] == 1000 and paid.json["payment_id"]
    wrong = api.post(f"{path}/payments", {"amount": 1, "currency": "GBP", "method": "card"})
    assert (wrong.status_code, problem_type(wrong)) == (400, "currency-mismatch")
    too_much = api.post(f"{path}/refunds", {"amount": 5000, "currency": "EUR"}, who="finance")
    assert (too_much.status_code, problem_type(too_much)) == (409, "refund-exceeds-paid")
    refund = api.post(f"{path}/refunds", {"amount": 400, "currency": "EUR"}, who="finance")
    assert refund.status_code == 200, refund.text
    refund_id = refund.json["refund_id"]
    assert refund.json["pending_refunds"] == [{"refund_id": refund_id, "amount": 400}]
    settled = api.post(f"{path}/refunds/{refund_id}/settle", {"succeeded": True}, who="finance")
    assert settled.status_code == 200, settled.text
    assert settled.json["refunded"] == 400 and settled.json["pending_refunds"] == []
    unknown = api.post(f"{path}/refunds/nope/settle", {"succeeded": False}, who="finance")
    assert (unknown.status_code, problem_type(unknown)) == (409, "unknown-refund")


def test_check_in_check_out_and_no_show(api: Api, world: World):
    stays, missed = hold(api, world), hold(api, world)
    for booking in (stays, missed):
        assert api.post(f"/bookings/{booking['id']}/confirm").status_code == 200
    checked_in = api.post(f"/bookings/{stays['id']}/check-in", who="gate_device")
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json["status"] == "checked_in"
    checked_out = api.post(f"/bookings/{stays['id']}/check-out", who="gate_device")
    assert checked_out.json["status"] == "checked_out"
    no_show = api.post(f"/bookings/{missed['id']}/no-show", who="operations")
    assert no_show.status_code == 200
    assert no_show.json["status"] == "no_show"


def test_check_in_before_the_arrival_day_is_a_409(api: Api, world: World):
    booking = hold(api, world, arrival="2030-06-05", departure="2030-06-06")
    api.post(f"/bookings/{booking['id']}/confirm")
    answer = api.post(f"/bookings/{booking['id']}/check-in")
    assert (answer.status_code, problem_type(answer)) == (409, "not-arrival-day")
    assert ARRIVAL.isoformat() == "2030-06-01"


def test_a_command_on_an_unknown_booking_is_a_404(api: Api, world: World):
    answer = api.post("/bookings/00000000-0000-4000-8000-000000000002/confirm")
    assert (answer.status_code, problem_type(answer)) == (404, "unknown-booking")
