"""Rate plans, quotes, prices in /availability and holds at a quoted price, over HTTP.

2030-06-01 (the clock's day and the usual arrival) is a Saturday.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from http_support import Api, Clock, World, hold, hold_body, problem_type

from berth.domain.bounds import MAX_MONEY

SUMMER = {
    "code": "summer-web",
    "name": "Summer on the web",
    "base_price": 1000,
    "seasons": [{"first_night": "2030-06-05", "last_night": "2030-06-30", "nightly_price": 2000}],
    "weekday_prices": {"sat": 1500},
    "min_stay": 2,
    "max_stay": 14,
    "closed_to_arrival_weekdays": ["sun"],
    "channels": ["web"],
}


def plans(world: World) -> str:
    return f"/pools/{world.pool_id}/rate-plans"


def create(api: Api, world: World, **changes: Any) -> dict[str, Any]:
    answer = api.post(plans(world), {**SUMMER, **changes})
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json
    return result


def quote(api: Api, world: World, who: str = "web", **params: Any) -> Any:
    query = {
        "pool_id": world.pool_id,
        "arrival": "2030-06-01",
        "departure": "2030-06-08",
        "rate_plan": "summer-web",
    } | params
    path = "/quotes?" + "&".join(f"{k}={v}" for k, v in query.items())
    return api.get(path, who=who)


def test_a_plan_is_created_by_staff_and_its_location_resolves(
    api: Api, world: World, workers: None
):
    created = api.post(plans(world), SUMMER)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{plans(world)}/summer-web"
    assert created.json["terms"]["seasons"][0]["nightly_price"] == 2000
    found = api.get(f"{created.headers['location']}?min_position={created.json['position']}")
    assert found.status_code == 200, found.text
    assert found.headers["etag"] == '"1"'
    assert found.json["code"] == "summer-web"
    assert found.json["terms"] == created.json["terms"]
    assert found.json["currency"] == "EUR"


def test_a_booking_key_may_not_create_a_plan(api: Api, world: World):
    answer = api.post(plans(world), SUMMER, who="web")
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"code": "default"}, 400, "invalid-rate-plan"),
        ({"code": "a b"}, 400, "invalid-request"),
        ({"code": "x" * 65}, 400, "invalid-request"),
        ({"base_price": MAX_MONEY + 1}, 400, "invalid-request"),
        ({"weekday_prices": {"funday": 1}}, 400, "invalid-request"),
        ({"min_stay": 5, "max_stay": 2}, 400, "invalid-request"),
        ({"channels": ["we\x00b"]}, 400, "invalid-request"),
        (
            {
                "seasons": [
                    {"first_night": "2030-06-01", "last_night": "2030-06-10", "nightly_price": 1},
                    {"first_night": "2030-06-10", "last_night": "2030-06-20", "nightly_price": 2},
                ]
            },
            400,
            "invalid-rate-plan",
        ),
        (
            {
                "seasons": [
                    {"first_night": "2030-06-10", "last_night": "2030-06-01", "nightly_price": 1}
                ]
            },
            400,
            "invalid-rate-plan",
        ),
    ],
)
def test_bad_plans_are_refused_and_store_nothing(
    api: Api, world: World, changes: dict[str, Any], status: int, code: str
):
    answer = api.post(plans(world), {**SUMMER, **changes})
    assert (answer.status_code, problem_type(answer)) == (status, code), answer.text
    assert api.post(plans(world), SUMMER).status_code == 201  # the code was not taken


def test_a_code_is_unique_per_pool_not_globally(api: Api, world: World):
    create(api, world)
    again = api.post(plans(world), SUMMER)
    assert (again.status_code, problem_type(again)) == (409, "rate-plan-exists")
    other = api.post(
        f"/facilities/{world.facility_id}/pools",
        {"name": "Short stay", "capacity": 5, "nightly_price": 900, "currency": "EUR"},
    )
    assert api.post(f"/pools/{other.json['id']}/rate-plans", SUMMER).status_code == 201


def test_a_quote_prices_each_night_by_season_weekday_and_base_with_tax_and_terms(
    api: Api, world: World, workers: None
):
    assert api.post(f"/pools/{world.pool_id}/tax-rate", {"rate_bp": 2000}).status_code == 200
    created = create(api, world)
    answer = quote(api, world, min_position=created["position"])
    assert answer.status_code == 200, answer.text
    body = answer.json
    prices = [n["price"] for n in body["night_prices"]]
    # Sat 1 (weekday), Sun 2 to Wed 4 (base), Thu 5 to Fri 7 (season).
    assert prices == [1500, 1000, 1000, 1000, 2000, 2000, 2000]
    assert body["sellable"] is True
    assert body["total"] == sum(prices) == 10500
    assert body["tax"] == {"rate_bp": 2000, "included": 1750}
    assert body["cancellation"] == {"free_until_hours": 48, "fee_percent": 100}
    assert [n["remaining"] for n in body["night_prices"]] == [5] * 7
    assert body["currency"] == "EUR"


@pytest.mark.parametrize(
    ("who", "params", "reason"),
    [
        ("web", {"departure": "2030-06-02"}, "minimum-stay"),
        ("web", {"departure": "2030-06-20"}, "maximum-stay"),
        ("web", {"arrival": "2030-06-02", "departure": "2030-06-05"}, "closed-to-arrival"),
        ("reseller", {}, "channel-not-allowed"),
        ("web", {"quantity": 6}, "no-capacity"),
    ],
)
def test_a_quote_names_why_a_stay_cannot_be_sold(
    api: Api, world: World, workers: None, who: str, params: dict[str, Any], reason: str
):
    created = create(api, world)
    answer = quote(api, world, who=who, min_position=created["position"], **params)
    assert answer.status_code == 200, answer.text
    assert answer.json["sellable"] is False
    assert answer.json["reason"]["code"] == reason
    assert "total" not in answer.json
    if reason == "channel-not-allowed":  # another channel's prices are not shown
        assert "night_prices" not in answer.json
    held = api.post(
        "/bookings",
        hold_body(
            world,
            rate_plan="summer-web",
            arrival=params.get("arrival", "2030-06-01"),
            departure=params.get("departure", "2030-06-08"),
            quantity=params.get("quantity", 1),
        ),
        who=who,
    )
    assert (held.status_code, problem_type(held)) == (409, reason)


def test_a_quote_of_an_unknown_plan_or_pool_is_a_404(api: Api, world: World, workers: None):
    created = create(api, world)
    answer = quote(api, world, rate_plan="nope", min_position=created["position"])
    assert (answer.status_code, problem_type(answer)) == (404, "unknown-rate-plan")
    answer = quote(api, world, pool_id="00000000-0000-4000-8000-000000000009")
    assert (answer.status_code, problem_type(answer)) == (404, "unknown-pool")
    answer = quote(api, world, departure="2030-06-01")
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request")


def test_a_hold_keeps_the_nightly_breakdown_it_was_sold_at(api: Api, world: World, workers: None):
    create(api, world)
    booking = hold(api, world, rate_plan="summer-web", departure="2030-06-08", quantity=2)
    assert booking["rate_plan"] == "summer-web"
    prices = [n["price"] for n in booking["night_prices"]]
    assert prices == [1500, 1000, 1000, 1000, 2000, 2000, 2000]
    assert booking["total"] == sum(prices) * 2
    assert booking["night_prices"][0]["night"] == "2030-06-01"
    read = api.get(f"/bookings/{booking['id']}?min_position={booking['position']}", who="web")
    assert read.json["night_prices"] == booking["night_prices"]
    assert read.json["total"] == booking["total"]


def test_a_hold_naming_no_plan_is_sold_at_the_pools_price_as_before(api: Api, world: World):
    booking = hold(api, world)
    assert booking["rate_plan"] == "default"
    assert [n["price"] for n in booking["night_prices"]] == [1200, 1200]
    assert booking["total"] == 2400


def test_a_price_change_never_changes_a_booking_and_a_stale_quote_is_refused(
    api: Api, world: World, workers: None
):
    created = create(api, world)
    first = quote(api, world, min_position=created["position"]).json
    booking = hold(api, world, rate_plan="summer-web", departure="2030-06-08")
    assert booking["total"] == first["total"]

    changed = api.put(
        f"{plans(world)}/summer-web",
        {k: v for k, v in SUMMER.items() if k != "code"} | {"base_price": 3000},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json["version"] == 2

    read = api.get(f"/bookings/{booking['id']}?min_position={changed.json['position']}")
    assert read.json["total"] == booking["total"]
    assert read.json["night_prices"] == booking["night_prices"]

    stale = api.post(
        "/bookings",
        hold_body(
            world, rate_plan="summer-web", departure="2030-06-08", quoted_total=first["total"]
        ),
        who="web",
    )
    assert (stale.status_code, problem_type(stale)) == (409, "price-changed")
    assert stale.json["quoted_total"] == first["total"]
    assert stale.json["total"] == 1500 + 3 * 3000 + 3 * 2000
    assert len(stale.json["night_prices"]) == 7

    accepted = hold(
        api,
        world,
        rate_plan="summer-web",
        departure="2030-06-08",
        quoted_total=first["total"],
        accept_price_change=True,
    )
    assert accepted["total"] == stale.json["total"]
    fresh = quote(api, world, min_position=changed.json["position"]).json
    assert fresh["total"] == stale.json["total"]
    assert (
        hold(
            api, world, rate_plan="summer-web", departure="2030-06-08", quoted_total=fresh["total"]
        )["total"]
        == fresh["total"]
    )


def test_a_stale_if_match_on_a_plan_change_is_a_412(api: Api, world: World):
    create(api, world)
    body = {k: v for k, v in SUMMER.items() if k != "code"}
    answer = api.put(f"{plans(world)}/summer-web", body, headers={"If-Match": '"7"'})
    assert answer.status_code == 412


def test_an_amendment_keeps_agreed_nights_and_prices_added_ones_under_the_plan_today(
    api: Api, world: World
):
    create(api, world)
    booking = hold(api, world, rate_plan="summer-web", departure="2030-06-03")
    assert [n["price"] for n in booking["night_prices"]] == [1500, 1000]
    body = {k: v for k, v in SUMMER.items() if k != "code"} | {"base_price": 1100}
    assert api.put(f"{plans(world)}/summer-web", body).status_code == 200
    amended = api.post(f"/bookings/{booking['id']}/amend", {"departure": "2030-06-04"}, who="web")
    assert amended.status_code == 200, amended.text
    assert [n["price"] for n in amended.json["night_prices"]] == [1500, 1000, 1100]
    assert amended.json["total"] == 3600


def test_availability_shows_the_price_under_each_plan_the_channel_may_sell(
    api: Api, world: World, workers: None
):
    created = create(api, world)
    query = f"/availability?pool_id={world.pool_id}&from=2030-06-01&to=2030-06-02"
    query += f"&min_position={created['position']}"
    web = api.get(query, who="web").json
    assert web["currency"] == "EUR"
    assert web["nights"][0]["prices"] == [
        {"rate_plan": "default", "price": 1200, "closed_to_arrival": False},
        {"rate_plan": "summer-web", "price": 1500, "closed_to_arrival": False},
    ]
    assert web["nights"][1]["prices"][1] == {
        "rate_plan": "summer-web",
        "price": 1000,
        "closed_to_arrival": True,
    }
    reseller = api.get(query, who="reseller").json
    assert [p["rate_plan"] for p in reseller["nights"][0]["prices"]] == ["default"]


def test_a_booking_key_lists_only_the_plans_it_may_sell(api: Api, world: World, workers: None):
    create(api, world)
    last = create(api, world, code="flex", channels=[])
    query = f"{plans(world)}?min_position={last['position']}"
    assert [p["code"] for p in api.get(query, who="web").json["rate_plans"]] == [
        "flex",
        "summer-web",
    ]
    assert [p["code"] for p in api.get(query, who="reseller").json["rate_plans"]] == ["flex"]
    hidden = api.get(f"{plans(world)}/summer-web", who="reseller")
    assert (hidden.status_code, problem_type(hidden)) == (404, "unknown-rate-plan")
    bad = api.get(f"{plans(world)}/a%00b", who="web")
    assert bad.status_code == 400


def test_a_retired_plan_is_not_sold_and_its_bookings_keep_their_prices(
    api: Api, world: World, workers: None
):
    create(api, world)
    booking = hold(api, world, rate_plan="summer-web")
    retired = api.post(f"{plans(world)}/summer-web/retire")
    assert retired.status_code == 200, retired.text
    assert retired.json["retired"] is True
    refused = api.post("/bookings", hold_body(world, rate_plan="summer-web"), who="web")
    assert (refused.status_code, problem_type(refused)) == (409, "rate-plan-retired")
    again = api.post(f"{plans(world)}/summer-web/retire")
    assert (again.status_code, problem_type(again)) == (409, "rate-plan-retired")
    query = f"{plans(world)}?min_position={retired.json['position']}"
    assert api.get(query, who="web").json["rate_plans"] == []
    staff = api.get(query).json["rate_plans"]
    assert [(p["code"], p["retired"]) for p in staff] == [("summer-web", True)]
    read = api.get(f"/bookings/{booking['id']}?min_position={retired.json['position']}")
    assert read.json["total"] == booking["total"]
    retired_quote = quote(api, world, who="operations", min_position=retired.json["position"])
    assert retired_quote.json["reason"]["code"] == "rate-plan-retired"


def test_a_quote_counts_each_nights_units_left_as_availability_does(
    api: Api, world: World, workers: None, clock: Clock
):
    """Held, confirmed, expired and a night's own capacity, read in the quote's one statement."""
    create(api, world)
    capacity = {"first_night": "2030-06-03", "last_night": "2030-06-04", "capacity": 3}
    assert api.put(f"/pools/{world.pool_id}/capacity", capacity).status_code == 200
    confirmed = hold(api, world, departure="2030-06-03", quantity=2)  # nights 1 and 2
    assert api.post(f"/bookings/{confirmed['id']}/confirm", who="web").status_code == 200
    hold(api, world, arrival="2030-06-02", departure="2030-06-05")  # nights 2 to 4, held
    lapsed = hold(api, world, arrival="2030-06-04", departure="2030-06-07", quantity=2,
                  hold_minutes=5)  # fmt: skip
    clock.advance(timedelta(minutes=10))  # the last hold lapsed (no worker has expired it yet)

    answer = quote(api, world, min_position=lapsed["position"])
    assert answer.status_code == 200, answer.text
    remaining = [n["remaining"] for n in answer.json["night_prices"]]
    assert remaining == [3, 2, 2, 2, 5, 5, 5]
    nights = api.get(
        f"/availability?pool_id={world.pool_id}&from=2030-06-01&to=2030-06-07", who="web"
    ).json["nights"]
    assert remaining == [n["remaining"] for n in nights]
    assert answer.json["sellable"] is True
    assert quote(api, world, quantity=3).json["reason"]["code"] == "no-capacity"


def test_a_quote_right_after_a_plan_change_shows_the_new_prices(
    api: Api, world: World, workers: None
):
    created = create(api, world)
    before = quote(api, world, min_position=created["position"]).json
    assert [n["price"] for n in before["night_prices"]] == [
        1500,
        1000,
        1000,
        1000,
        2000,
        2000,
        2000,
    ]
    changed = api.put(
        f"{plans(world)}/summer-web",
        {k: v for k, v in SUMMER.items() if k != "code"}
        | {"base_price": 3000, "weekday_prices": {"sat": 1700}},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    after = quote(api, world, min_position=changed.json["position"]).json
    assert [n["price"] for n in after["night_prices"]] == [1700, 3000, 3000, 3000, 2000, 2000, 2000]
    assert after["total"] == 1700 + 3 * 3000 + 3 * 2000
