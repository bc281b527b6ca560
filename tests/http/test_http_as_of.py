"""`as_of` means the same on /ledger as on /audit: the events up to the first one stamped
after the time, in store order, even where a later-stored event is stamped earlier."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from http_support import START, Api, Clock, World, hold, problem_type
from test_http_audit import project

from berth.http import Services


def pay(api: Api, booking_id: str, amount: int) -> dict[str, Any]:
    paid = api.post(
        f"/bookings/{booking_id}/payments",
        {"amount": amount, "currency": "EUR", "method": "card"},
        who="web",
    )
    assert paid.status_code in (200, 201), paid.text
    result: dict[str, Any] = paid.json
    return result


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_time_cut_gives_the_replayed_books_whatever_order_the_clocks_ran_in(
    api: Api, world: World, db_url: str, services: Services, clock: Clock
) -> None:
    held = hold(api, world)
    assert api.post(f"/bookings/{held['id']}/confirm", who="web").status_code == 200
    clock.advance(timedelta(hours=1))
    pay(api, held["id"], 1000)  # stamped START + 1 h
    clock.advance(timedelta(minutes=-30))
    pay(api, held["id"], 300)  # stored after, stamped START + 30 min
    clock.advance(timedelta(hours=2))
    pay(api, held["id"], 200)  # START + 2 h 30
    project(db_url, services, "ledger")

    hours = (0, 0.75, 1, 2, 3)
    cuts = [START + timedelta(hours=h) for h in hours]
    cash = []
    for moment in cuts:
        params = {"facility_id": world.facility_id, "as_of": stamp(moment)}
        replayed = api.get("/audit/ledger/trial-balance", who="auditor", params=params)
        live = api.get("/ledger/trial-balance", who="auditor", params=params)
        assert replayed.status_code == live.status_code == 200, (replayed.text, live.text)
        assert live.json["accounts"] == replayed.json["accounts"], moment
        assert live.json["as_of"] == moment.isoformat()
        balances = {a["account"]: a["balance"] for a in live.json["accounts"]}
        cash.append(balances["cash"])
    # The confirmation; 45 min: the 1 h payment is the first event past it,
    # so the 30 min one stored after it is out too; 1 h: both; 2 h: the same; 3 h: all.
    assert cash == [0, 0, 1300, 1300, 1500]


def test_a_bare_date_keeps_its_business_date_meaning_and_cuts_are_exclusive(
    api: Api, world: World, db_url: str, services: Services
) -> None:
    held = hold(api, world)
    assert api.post(f"/bookings/{held['id']}/confirm", who="web").status_code == 200
    project(db_url, services, "ledger")
    base = {"facility_id": world.facility_id}
    legacy = api.get("/ledger/accounts", who="finance", params=base | {"as_of": "2030-06-01"})
    named = api.get(
        "/ledger/accounts", who="finance", params=base | {"business_date": "2030-06-01"}
    )
    assert legacy.status_code == named.status_code == 200, legacy.text
    assert legacy.json["accounts"] == named.json["accounts"]
    assert legacy.json["business_date"] == "2030-06-01"
    both = api.get(
        "/ledger/accounts", who="finance", params=base | {"as_of": "2030-06-01T00:00:00Z",
                                                          "position": 3}
    )  # fmt: skip
    assert (both.status_code, problem_type(both)) == (400, "invalid-request")
    naive = api.get("/ledger/accounts", who="finance", params=base | {"as_of": "2030-06-01T00:00"})
    assert naive.status_code == 400
