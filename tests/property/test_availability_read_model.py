"""Once caught up, the availability read model counts what the write side counts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import queries
from berth.domain.application import Reservations
from berth.domain.error import DomainError
from berth.domain.stay import Stay
from projection_support import Clock, catch_up, cause

FIRST = date(2030, 6, 10)
DAYS = 6

hold = st.tuples(
    st.just("hold"),
    st.integers(0, DAYS - 1),  # arrival day
    st.integers(1, 3),  # nights
    st.integers(1, 3),  # quantity
    st.integers(1, 30),  # hold minutes
)
on_booking = st.tuples(
    st.sampled_from(["confirm", "cancel", "expire", "amend"]),
    st.integers(0, 20),  # which booking (modulo how many there are)
    st.integers(1, 3),  # quantity, for amend
)
advance = st.tuples(st.just("advance"), st.integers(1, 20))
capacity = st.tuples(st.just("capacity"), st.integers(0, DAYS - 1), st.integers(0, 8))
commands = st.lists(st.one_of(hold, hold, on_booking, advance, capacity), max_size=25)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(db_url: str, clock: Clock) -> Iterator[Reservations]:
    application = open_reservations(db_url, clock=clock)
    yield application
    application.close()


def run(
    app: Reservations, clock: Clock, pool: UUID, bookings: list[UUID], command: tuple[object, ...]
) -> None:
    match command:
        case ("hold", int(day), int(nights), int(quantity), int(minutes)):
            arrival = FIRST + timedelta(days=day)
            result = app.hold(
                pool_id=pool, stay=Stay(arrival, arrival + timedelta(days=nights)),
                quantity=quantity, guest={"name": "Ada"}, hold_for=timedelta(minutes=minutes),
                cause=cause(),
            )  # fmt: skip
            bookings.append(result.id)
        case ("advance", int(minutes)):
            clock.advance(timedelta(minutes=minutes))
        case ("capacity", int(day), int(new_capacity)):
            night = FIRST + timedelta(days=day)
            app.change_capacity(
                pool_id=pool, first_night=night, last_night=night, capacity=new_capacity,
                cause=cause(),
            )  # fmt: skip
        case (str(action), int(which), int(quantity)) if bookings:
            booking_id = bookings[which % len(bookings)]
            if action == "amend":
                app.amend(booking_id=booking_id, quantity=quantity, cause=cause())
            else:
                getattr(app, action)(booking_id=booking_id, cause=cause())


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commands=commands)
def test_availability_equals_the_write_side_once_caught_up(
    db_url: str, app: Reservations, clock: Clock, commands: list[tuple[object, ...]]
) -> None:
    facility = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
    pool = app.add_pool(
        facility_id=facility, name="Bays", capacity=5, nightly_price=1000, currency="EUR",
        cause=cause(),
    ).id  # fmt: skip
    bookings: list[UUID] = []
    for command in commands:
        # A refusal is part of the mix: it must change nothing on either side.
        with contextlib.suppress(DomainError):
            run(app, clock, pool, bookings, command)

    catch_up(db_url, app)
    with psycopg.connect(db_url) as conn:
        nights = queries.availability(
            conn, pool_id=pool, first_night=FIRST, last_night=FIRST + timedelta(days=DAYS + 2),
            now=clock.now,
        )  # fmt: skip
    assert nights is not None
    for row in nights:
        inventory = app.night_inventory(pool, row["night"])
        allocations = inventory.allocations.values() if inventory else []
        held = sum(
            a["quantity"]
            for a in allocations
            if a["expires_at"] is not None and a["expires_at"] > clock.now
        )
        confirmed = sum(a["quantity"] for a in allocations if a["expires_at"] is None)
        written = {
            "capacity": inventory.capacity if inventory else 5,
            "held": held,
            "confirmed": confirmed,
            "remaining": inventory.remaining(now=clock.now) if inventory else 5,
        }
        assert {k: row[k] for k in written} == written, row["night"]
        assert row["held"] + row["confirmed"] == app.sold(pool, row["night"])
