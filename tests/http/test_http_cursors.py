"""One cursor style on every list: an opaque `next_cursor`, a `next` link that is the same
request one page on, 400 `invalid-cursor` for anything else, and the old plain cursors."""

from __future__ import annotations

from typing import Any

from http_support import Api, World, hold, make_key, problem_type

from berth.http import Services, paging


def items(answer: Any) -> list[Any]:
    (member,) = (k for k, v in answer.json.items() if isinstance(v, list))
    return list(answer.json[member])


def test_every_list_pages_by_an_opaque_cursor_and_a_next_link(
    api: Api, world: World, services: Services, workers: None
) -> None:
    first, second = hold(api, world), hold(api, world)
    assert api.post(f"/bookings/{first['id']}/confirm", who="web").status_code == 200
    make_key(services, "auditor")
    lists = {
        "/bookings": {"min_position": second["position"]},
        "/apikeys": {},
        f"/audit/aggregates/{first['id']}/events": {},
        "/ledger/journal": {},  # no line yet: one page, nothing next
    }
    for path, params in lists.items():
        page = api.get(path, params=params | {"limit": 1})
        assert page.status_code == 200, (path, page.text)
        if not items(page):
            assert (page.json["next_cursor"], page.json["next"]) == (None, None)
            continue
        cursor = page.json["next_cursor"]
        assert isinstance(cursor, str) and page.json["next"].startswith(f"{path}?"), path
        assert f"cursor={cursor}" in page.json["next"] and "limit=1" in page.json["next"]
        following = api.get(page.json["next"])
        assert following.status_code == 200, (path, following.text)
        assert items(following) and items(following) != items(page), path
        bad = api.get(path, params={"cursor": "bm90IGEgY3Vyc29y"})
        assert (bad.status_code, problem_type(bad)) == (400, "invalid-cursor"), path


def test_the_plain_cursors_of_before_still_work(
    api: Api, world: World, services: Services, workers: None
) -> None:
    keys = api.get("/apikeys", params={"limit": 1})
    first_id = keys.json["keys"][0]["key_id"]
    legacy = api.get("/apikeys", params={"limit": 1, "cursor": first_id})
    assert legacy.json == api.get(keys.json["next"]).json
    held = hold(api, world)
    page = api.get(
        "/bookings", params={"cursor": held["position"] - 1, "min_position": held["position"]}
    )
    assert [b["id"] for b in page.json["bookings"]] == [held["id"]]
    journal = api.get("/ledger/journal", params={"cursor": "0.0.0"})
    assert journal.status_code == 200


def test_a_well_formed_cursor_holding_the_wrong_key_is_refused_not_a_500(
    api: Api, world: World
) -> None:
    wrong = {
        "/facilities": ["not-a-uuid", 7, ""],
        f"/facilities/{world.facility_id}/cameras": ["\x00", "x" * 101, 3],
        "/bookings": [
            {"order": "position", "after": -1},
            {"order": "position", "after": True},
            {"order": "arrival", "after": ["2030-06-01", 5]},
            {"order": "arrival", "after": ["2030-13-01", world.pool_id]},
            {"order": "created", "after": ["2030-06-01T00:00:00", world.pool_id]},
            {"order": "created", "after": 9},
        ],
        "/ledger/journal": [[1, 2], [1, 2, -3], "1.2.3"],
        "/apikeys": ["zz", 1],
    }
    for path, keys in wrong.items():
        for key in keys:
            params = {"cursor": paging.encode(key)}
            if isinstance(key, dict):
                params["order"] = key["order"]
            answer = api.get(path, params=params)
            assert (answer.status_code, problem_type(answer)) == (400, "invalid-cursor"), (
                path,
                key,
                answer.text,
            )
