"""GET /bookings searches: reference, plate, guest name and e-mail (case- and accent-
insensitive), pool, stays overlapping a range, orders paged by one opaque cursor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from http_support import Api, Clock, World, hold, problem_type


def search(api: Api, who: str = "operations", **params: Any) -> list[str]:
    answer = api.get("/bookings", who=who, params=params)
    assert answer.status_code == 200, answer.text
    return [b["id"] for b in answer.json["bookings"]]


def book(api: Api, world: World, arrival: str, departure: str, **changes: Any) -> dict[str, Any]:
    return hold(api, world, arrival=arrival, departure=departure, **changes)


def test_a_booking_is_found_by_its_reference_however_it_is_typed(
    api: Api, world: World, workers: None
) -> None:
    others = [book(api, world, "2030-06-01", "2030-06-02") for _ in range(3)]
    wanted = book(api, world, "2030-06-01", "2030-06-02")
    reference = wanted["reference"]
    typed = f"{reference[:4].lower()}-{reference[4:]} "
    at = {"min_position": wanted["position"]}
    assert search(api, reference=typed, limit=1, **at) == [wanted["id"]]
    assert search(api, who="web", reference=reference, **at) == [wanted["id"]]
    assert search(api, who="reseller", reference=reference, **at) == []  # another channel's
    assert wanted["id"] not in search(api, reference=others[0]["reference"], **at)


def test_plates_guest_names_and_emails_match_like_people_write_them(
    api: Api, world: World, workers: None
) -> None:
    zoe = book(
        api, world, "2030-06-01", "2030-06-03",
        guest={"given_name": "Zoë", "family_name": "Ångström", "email": "Zoe.A@Example.COM"},
        plates=["ab-12 cde"],
    )  # fmt: skip
    ada = book(api, world, "2030-06-01", "2030-06-03")  # Ada Lovelace, AB12 CDE as well
    at = {"min_position": ada["position"]}
    assert search(api, plate="AB12CDE", **at) == [zoe["id"], ada["id"]]
    assert search(api, plate="ab 12.cde", pool_id=world.pool_id, **at) == [zoe["id"], ada["id"]]
    assert search(api, plate="XY99", **at) == []
    for name in ("zoe angstrom", "ÅNGSTR", "ZOË", "  angström   zoe "):
        assert search(api, guest=name, **at) == [zoe["id"]], name
    assert search(api, guest="zoe lovelace", **at) == []
    assert search(api, guest="100%", **at) == []  # LIKE's wildcards are only letters here
    assert search(api, email="zoe.a@example.com", **at) == [zoe["id"]]
    assert search(api, email="zoe.a@example", **at) == []
    dashes = api.get("/bookings", who="operations", params={"plate": "-- ."})
    assert (dashes.status_code, problem_type(dashes)) == (400, "invalid-search")
    too_long = api.get("/bookings", who="operations", params={"guest": "x" * 201})
    assert too_long.status_code == 400


def test_stays_overlapping_a_range_count_their_nights_not_their_departure(
    api: Api, world: World, workers: None
) -> None:
    early = book(api, world, "2030-06-01", "2030-06-03")  # nights of the 1st and 2nd
    late = book(api, world, "2030-06-05", "2030-06-07")
    at = {"min_position": late["position"]}
    assert search(api, stay_from="2030-06-03", stay_to="2030-06-04", **at) == []
    assert search(api, stay_from="2030-06-02", stay_to="2030-06-02", **at) == [early["id"]]
    assert search(api, stay_to="2030-06-05", **at) == [early["id"], late["id"]]
    assert search(api, stay_from="2030-06-06", **at) == [late["id"]]
    backwards = api.get(
        "/bookings", who="operations", params={"stay_from": "2030-06-05", "stay_to": "2030-06-01"}
    )
    assert backwards.status_code == 400


def follow_all(api: Api, params: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    answer = api.get("/bookings", who="operations", params=params)
    while True:
        assert answer.status_code == 200, answer.text
        seen += [b["id"] for b in answer.json["bookings"]]
        if answer.json["next"] is None:
            assert answer.json["next_cursor"] is None
            return seen
        answer = api.get(answer.json["next"], who="operations")


def test_every_order_pages_to_the_end_by_its_next_link_without_gaps_or_repeats(
    api: Api, world: World, clock: Clock, workers: None
) -> None:
    stays = [("2030-06-04", "2030-06-05"), ("2030-06-01", "2030-06-02"),
             ("2030-06-03", "2030-06-04"), ("2030-06-01", "2030-06-03")]  # fmt: skip
    made = []
    for arrival, departure in stays:
        clock.advance(timedelta(seconds=1))  # created one after another
        made.append(book(api, world, arrival, departure))
    at = made[-1]["position"]
    by_arrival = sorted(made, key=lambda b: (b["arrival"], b["id"]))
    ids = [b["id"] for b in by_arrival]
    assert follow_all(api, {"order": "arrival", "limit": 1, "min_position": at}) == ids
    assert follow_all(api, {"order": "-arrival", "limit": 3, "min_position": at}) == ids[::-1]
    created = [b["id"] for b in made]
    assert follow_all(api, {"order": "created", "limit": 2, "min_position": at}) == created
    assert follow_all(api, {"order": "-created", "limit": 2}) == created[::-1]
    assert follow_all(api, {"limit": 1}) == created  # position order, the change feed

    first = api.get("/bookings", who="operations", params={"order": "arrival", "limit": 1})
    cursor = first.json["next_cursor"]
    mixed = api.get("/bookings", who="operations", params={"order": "created", "cursor": cursor})
    assert (mixed.status_code, problem_type(mixed)) == (400, "invalid-cursor")
    legacy = api.get(
        "/bookings", who="operations", params={"cursor": made[1]["position"], "limit": 500}
    )
    assert [b["id"] for b in legacy.json["bookings"]] == created[2:]


def test_an_amended_guest_is_found_by_the_new_name_and_no_longer_by_the_old(
    api: Api, world: World, workers: None
) -> None:
    held = book(api, world, "2030-06-01", "2030-06-02")
    other = book(api, world, "2030-06-01", "2030-06-02")  # changes in the same page
    amended = api.post(
        f"/bookings/{held['id']}/amend",
        {"guest": {"given_name": "Søren", "family_name": "Kierkegaard", "email": "S@K.dk"}},
        who="web",
    )
    assert amended.status_code == 200, amended.text
    at = {"min_position": amended.json["position"]}
    assert search(api, guest="soren kierke", **at) == [held["id"]]
    assert search(api, email="s@k.DK", **at) == [held["id"]]
    assert search(api, guest="lovelace", **at) == [other["id"]]
