"""The guest's name split in two: the rule, the check, and old events upcast by the mapper."""

from __future__ import annotations

from uuid import uuid4

import pytest

from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.guest import InvalidGuest, check_guest, split_name
from old_events import v1_events


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("Augusta Ada King", "Augusta Ada", "King"),
        ("  Ada   Lovelace ", "Ada", "Lovelace"),
        ("Madonna", "Madonna", ""),
        ("", "", ""),
    ],
)
def test_a_full_name_splits_at_its_last_space_and_one_word_is_a_given_name(
    name: str, given: str, family: str
) -> None:
    assert split_name(name) == (given, family)


def test_a_guest_given_by_name_or_by_parts_is_kept_in_parts() -> None:
    assert check_guest({"name": " Bo Chen ", "email": "bo@example.com"}) == {
        "given_name": "Bo",
        "family_name": "Chen",
        "email": "bo@example.com",
    }
    assert check_guest({"given_name": " Bo "}) == {"given_name": "Bo", "family_name": ""}


@pytest.mark.parametrize(
    "guest",
    [
        {"name": "Bo Chen", "given_name": "Bo"},
        {"name": "Bo Chen", "family_name": "Chen"},
        {"given_name": " ", "family_name": "Chen"},
        {"family_name": "Chen"},
        {"name": "  "},
        {"given_name": "Bo", "shoe_size": "9"},
    ],
)
def test_a_guest_needs_a_given_name_given_one_way(guest: dict[str, str]) -> None:
    with pytest.raises(InvalidGuest):
        check_guest(guest)


def test_the_mapper_upcasts_version_1_events_and_writes_the_current_version(
    app: Reservations,
) -> None:
    booking_id = uuid4()
    held_v1, amended_v1 = v1_events(booking_id, facility_id=uuid4(), pool_id=uuid4())

    held = app.mapper.to_domain_event(held_v1)
    amended = app.mapper.to_domain_event(amended_v1)

    assert isinstance(held, Booking.Held) and isinstance(amended, Booking.Amended)
    assert held.guest == {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
    }
    assert amended.guest["given_name"] == "Augusta Ada"
    assert held.rate_plan == "default"
    assert held.night_prices == [held.nightly_price] * (held.departure - held.arrival).days
    assert amended.night_prices is None  # the booking's nightly price every night
    assert b'"class_version":3' in app.mapper.to_stored_event(held).state
