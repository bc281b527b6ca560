"""The guest's two shapes at the API: `given_name` and `family_name`, or `name`, never both.

A `name` is split at its last space (one word is a given name); answers carry
both parts and a derived `name` for clients of the first shape, bookings stored
before the split included.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import psycopg
import pytest
from http_support import Api, World, hold, hold_body, problem_type

from berth.http import Services
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner
from old_events import store_v1_booking

KING = {"given_name": "Augusta Ada", "family_name": "King", "phone": "+44 20 7946 0000"}


def test_a_guest_given_in_parts_is_answered_in_parts_with_the_derived_name(
    api: Api, world: World
) -> None:
    guest = {"given_name": "Grace", "family_name": "Hopper", "email": "g@example.com"}
    held = hold(api, world, guest=guest)
    assert held["guest"] == guest | {"name": "Grace Hopper"}


def test_a_guest_given_by_name_is_split_at_the_last_space(api: Api, world: World) -> None:
    held = hold(api, world, guest={"name": "Augusta Ada King"})
    assert held["guest"] == {
        "given_name": "Augusta Ada",
        "family_name": "King",
        "name": "Augusta Ada King",
    }
    single = hold(api, world, guest={"name": "Madonna"})
    assert single["guest"] == {"given_name": "Madonna", "family_name": "", "name": "Madonna"}


@pytest.mark.parametrize(
    ("guest", "field"),
    [
        ({"name": "Ada Lovelace", "given_name": "Ada"}, "name"),
        ({"name": "Ada Lovelace", "family_name": "Lovelace"}, "name"),
        ({"family_name": "Lovelace"}, "given_name"),
        ({"email": "ada@example.com"}, "given_name"),
    ],
)
def test_a_guest_by_name_and_by_parts_at_once_or_neither_is_a_400(
    api: Api, world: World, guest: dict[str, str], field: str
) -> None:
    answer = api.post("/bookings", hold_body(world, guest=guest), who="web")
    assert (answer.status_code, problem_type(answer)) == (400, "invalid-request")
    assert field in answer.json["errors"]["guest"], answer.json


def test_a_booking_stored_in_the_old_guest_shape_shows_in_the_new_one(
    api: Api, world: World, db_url: str, services: Services
) -> None:
    booking_id = uuid4()
    store_v1_booking(
        services.reservations,
        booking_id,
        facility_id=UUID(world.facility_id),
        pool_id=UUID(world.pool_id),
    )
    with psycopg.connect(db_url) as conn:
        runner = ProjectionRunner(db_url, PROJECTIONS["bookings"], services.reservations.mapper)
        runner.catch_up(conn)

    row = api.get(f"/bookings/{booking_id}", who="web")
    assert row.status_code == 200, row.text
    assert row.json["guest"] == KING | {"name": "Augusta Ada King"}


def test_the_openapi_document_describes_both_guest_shapes(api: Api) -> None:
    document = api.get("/openapi.json", who=None).json
    guest = document["components"]["schemas"]["Guest"]
    assert {"given_name", "family_name", "name"} <= set(guest["properties"])
    assert "split at its last space" in guest["properties"]["name"]["description"]
    record = document["components"]["schemas"]["GuestRecord"]
    assert "derived" in record["properties"]["name"]["description"]
