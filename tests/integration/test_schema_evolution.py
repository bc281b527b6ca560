"""Events stored before the guest's name was split load, project and show in the new shape.

The stored rows are never rewritten: `Booking.Held` and `Booking.Amended` are at
class version 2 and upcast version 1 on read (`berth.domain.guest`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
import pytest

from berth.adapters.audit import audit_chain, audit_history
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import queries
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner
from old_events import store_v1_booking

START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
CAUSE = Cause(principal="test", channel="web", request_id="r", correlation_id="c")
ADA = {"given_name": "Augusta Ada", "family_name": "King", "phone": "+44 20 7946 0000"}


@pytest.fixture
def app(db_url: str) -> Iterator[Reservations]:
    app = open_reservations(db_url, clock=lambda: START)
    yield app
    app.close()


@pytest.fixture
def old_booking(app: Reservations) -> UUID:
    """A booking of a real pool whose two events were stored by the old code."""
    facility = app.register_facility(name="Harbour", time_zone="Europe/London", cause=CAUSE)
    pool = app.add_pool(
        facility_id=facility.id, name="P", capacity=5, nightly_price=1200, currency="EUR",
        cause=CAUSE,
    )  # fmt: skip
    booking_id = uuid4()
    store_v1_booking(app, booking_id, facility_id=facility.id, pool_id=pool.id)
    return booking_id


def stored(db_url: str, booking_id: UUID) -> list[dict[str, object]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT state FROM berth_events WHERE originator_id = %s ORDER BY originator_version",
            (booking_id,),
        ).fetchall()
    return [json.loads(bytes(state)) for (state,) in rows]


def test_old_guest_events_load_with_the_name_split_at_the_last_space(
    app: Reservations, old_booking: UUID
) -> None:
    held = app.repository.event_store.get(old_booking)
    first, amended = list(held)
    assert first.guest == {  # type: ignore[attr-defined]
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
    }
    assert amended.guest == ADA  # type: ignore[attr-defined]
    assert app.booking(old_booking).guest == ADA


def test_old_rows_stay_as_stored_and_new_events_store_the_new_shape(
    app: Reservations, db_url: str, old_booking: UUID
) -> None:
    app.amend(booking_id=old_booking, quantity=2, cause=CAUSE)

    held, amended, new = stored(db_url, old_booking)
    assert "class_version" not in held and held["guest"] == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
    }
    assert amended["guest"] == {"name": "Augusta Ada King", "phone": "+44 20 7946 0000"}
    assert new["class_version"] == 2 and new["guest"] == ADA
    assert audit_chain.verify(db_url).ok


def test_old_guest_events_project_and_show_in_the_new_shape(
    app: Reservations, db_url: str, old_booking: UUID
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for name in ("bookings", "ledger", "availability"):
            ProjectionRunner(db_url, PROJECTIONS[name], app.mapper).catch_up(conn)
        row = queries.booking(conn, old_booking)
        history = audit_history.history_page(conn, old_booking).steps
    assert row is not None and row["guest"] == ADA
    assert [step.data["guest"] for step in history] == [
        {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com"},
        ADA,
    ]
    assert history[-1].state["guest"] == ADA
