"""An aggregate's history and its state as of any step, replayed from the store alone.

One booking goes through hold, confirm, amend, payment, gate arrival and an
overstay charge; a later booking is held and cancelled. After each command the
test keeps the booking's state as the application had it then, and the audit
replay has to give that state back at that command's position and at its time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from berth.adapters.audit import audit_history
from berth.adapters.audit.audit_history import Cut, NotYetCreated, UnknownAggregate
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import ledger_queries
from berth.domain.application import Reservations
from berth.domain.catalog_commands import UnknownFacility
from berth.domain.cause import Cause
from berth.domain.commanding import CommandResult
from berth.domain.stay import Stay
from berth.projections.history import state_of
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner

START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
ARRIVAL = date(2030, 6, 3)


def cause(request_id: str, principal: str = "key:web") -> Cause:
    return Cause(principal=principal, channel="web", request_id=request_id, correlation_id="c-1")


def london(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in London (BST, UTC+1, in June) as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Taken:
    """The booking as the application had it right after one command."""

    command: str
    position: int  # the command's last event
    time: datetime
    version: int
    state: dict[str, Any]


@dataclass
class Story:
    app: Reservations
    facility_id: UUID
    booking_id: UUID
    later_id: UUID
    taken: list[Taken]


@pytest.fixture
def app(db_url: str) -> Iterator[tuple[Reservations, Clock]]:
    clock = Clock()
    app = open_reservations(db_url, clock=clock)
    yield app, clock
    app.close()


@pytest.fixture
def story(app: tuple[Reservations, Clock]) -> Story:
    reservations, clock = app
    setup = cause("setup", "key:admin")
    facility = reservations.register_facility(
        name="Harbour", time_zone="Europe/London", cause=setup
    )
    pool = reservations.add_pool(
        facility_id=facility.id,
        name="Long stay",
        capacity=5,
        nightly_price=2000,
        currency="EUR",
        cause=setup,
    )
    reservations.set_tax_rate(pool_id=pool.id, rate_bp=2000, cause=setup)
    reservations.set_overstay_tariff(pool_id=pool.id, hourly=250, cause=setup)
    gates = {
        direction: reservations.add_gate(
            facility_id=facility.id, name=direction, direction=direction, cause=setup
        ).id
        for direction in ("entry", "exit")
    }
    taken: list[Taken] = []
    booking_id: UUID | None = None

    def take(command: str, at: datetime, run: Any) -> CommandResult:
        clock.now = at
        result: CommandResult = run()
        booking = reservations.booking(booking_id or result.id)
        taken.append(Taken(command, result.position, at, booking.version, state_of(booking)))
        return result

    def read(direction: str, at: datetime) -> Any:
        return reservations.record_plate_read(
            read_id=str(uuid4()),
            camera_id="cam-1",
            gate_id=gates[direction],
            plate="AB12CDE",
            confidence=0.97,
            captured_at=at,
            booking_ids=[booking_id],
            cause=cause(f"read-{direction}", "key:gate"),
        )

    held = take(
        "hold",
        START + timedelta(minutes=1),
        lambda: reservations.hold(
            pool_id=pool.id,
            stay=Stay(ARRIVAL, ARRIVAL + timedelta(days=2)),
            quantity=1,
            guest={"given_name": "Ada", "family_name": "Lovelace"},
            plates=["AB12 CDE"],
            cause=cause("hold"),
        ),
    )
    booking_id = held.id
    take(
        "confirm",
        START + timedelta(minutes=2),
        lambda: reservations.confirm(booking_id=held.id, cause=cause("confirm")),
    )
    take(
        "amend",
        START + timedelta(minutes=3),
        lambda: reservations.amend(
            booking_id=held.id,
            departure=ARRIVAL + timedelta(days=3),
            guest={"name": "Augusta Ada King"},
            cause=cause("amend"),
        ),
    )
    take(
        "payment",
        START + timedelta(minutes=4),
        lambda: reservations.record_payment(
            booking_id=held.id, amount=6000, currency="EUR", method="card", cause=cause("pay")
        ),
    )
    take("arrival", london(ARRIVAL, 8), lambda: read("entry", london(ARRIVAL, 8)))
    # The stay ends at local midnight after its last night; 30 minutes' grace; 02:10 is 3 hours.
    leaving = ARRIVAL + timedelta(days=4)
    take("overstay", london(leaving, 2, 10), lambda: read("exit", london(leaving, 2, 10)))
    clock.now = london(leaving, 3)
    later = reservations.hold(
        pool_id=pool.id,
        stay=Stay(leaving + timedelta(days=10), leaving + timedelta(days=11)),
        quantity=1,
        guest={"name": "Bo Chen"},
        cause=cause("later-hold"),
    )
    take(
        "cancel a later booking",
        london(leaving, 4),
        lambda: reservations.cancel(booking_id=later.id, cause=cause("later-cancel")),
    )
    return Story(reservations, facility.id, held.id, later.id, taken)


def steps(db_url: str, aggregate_id: UUID, limit: int = 500) -> list[Any]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return audit_history.history_page(conn, aggregate_id, limit=limit).steps


def as_of(db_url: str, aggregate_id: UUID, cut: Cut) -> Any:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return audit_history.state_as_of(conn, aggregate_id, cut)


def test_the_history_lists_every_event_in_order_with_its_cause_and_the_state_after_it(
    db_url: str, story: Story
) -> None:
    history = steps(db_url, story.booking_id)

    assert [s.type for s in history] == [
        "Booking.Held",
        "Booking.Confirmed",
        "Booking.Amended",
        "Booking.PaymentRecorded",
        "Booking.VehicleArrived",
        "Booking.OverstayCharged",
    ]
    assert [s.version for s in history] == [1, 2, 3, 4, 5, 6]
    commands = story.taken[:6]
    previous = 0
    for step, taken in zip(history, commands, strict=True):
        assert previous < step.position <= taken.position, taken.command
        previous = step.position
        assert step.timestamp == taken.time
        assert step.state == taken.state, taken.command
        assert step.aggregate_type == "Booking"
    assert history[0].cause == {
        "principal": "key:web",
        "channel": "web",
        "request_id": "hold",
        "correlation_id": "c-1",
    }
    assert history[4].cause["principal"] == "key:gate"
    assert history[2].data["guest"] == {"given_name": "Augusta Ada", "family_name": "King"}
    assert history[3].data == {
        "payment_id": history[3].data["payment_id"],
        "amount": 6000,
        "currency": "EUR",
        "method": "card",
    }
    assert history[5].data == {"hours": 3, "amount": 750, "currency": "EUR"}


def test_the_state_as_of_each_commands_position_and_time_is_the_state_the_booking_had_then(
    db_url: str, story: Story
) -> None:
    for taken in story.taken:
        by_position = as_of(db_url, story.booking_id, Cut(position=taken.position))
        by_time = as_of(db_url, story.booking_id, Cut(as_of=taken.time))
        assert by_position.state == by_time.state == taken.state, taken.command
        assert by_position.version == by_time.version == taken.version, taken.command
    # Between two commands: the state the first one left.
    between = as_of(
        db_url, story.booking_id, Cut(as_of=story.taken[2].time + timedelta(seconds=30))
    )
    assert between.state == story.taken[2].state


def test_the_later_booking_has_a_history_of_its_own_ending_in_its_cancellation(
    db_url: str, story: Story
) -> None:
    history = steps(db_url, story.later_id)
    assert [s.type for s in history] == ["Booking.Held", "Booking.Cancelled"]
    assert history[-1].state["status"] == "cancelled"
    assert story.taken[-2].position < history[-1].position <= story.taken[-1].position


def test_pools_facilities_gates_and_nights_have_histories_too(db_url: str, story: Story) -> None:
    booking = story.app.booking(story.booking_id)
    night = story.app.night_inventory(booking.pool_id, ARRIVAL)
    assert night is not None
    for aggregate_id, kind in [
        (story.facility_id, "Facility"),
        (booking.pool_id, "Pool"),
        (night.id, "NightInventory"),
    ]:
        history = steps(db_url, aggregate_id)
        assert {s.aggregate_type for s in history} == {kind}
        assert history[-1].state == state_of(story.app.repository.get(aggregate_id))


def test_history_pages_by_version_cursor_give_every_event_once(db_url: str, story: Story) -> None:
    pages, after = [], 0
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            page = audit_history.history_page(conn, story.booking_id, after=after, limit=4)
            pages.append([s.version for s in page.steps])
            if page.next_cursor is None:
                break
            after = page.next_cursor
    assert pages == [[1, 2, 3, 4], [5, 6]]
    assert [s.state for s in steps(db_url, story.booking_id, limit=4)] == [
        t.state for t in story.taken[:4]
    ]


def test_unknown_aggregates_and_cuts_before_the_first_event_are_not_found(
    db_url: str, story: Story
) -> None:
    with pytest.raises(UnknownAggregate):
        steps(db_url, uuid4())
    with pytest.raises(UnknownAggregate):
        as_of(db_url, uuid4(), Cut(position=10**6))
    with pytest.raises(NotYetCreated):
        as_of(db_url, story.booking_id, Cut(as_of=START))
    with pytest.raises(NotYetCreated):
        as_of(
            db_url, story.booking_id, Cut(position=steps(db_url, story.booking_id)[0].position - 1)
        )


def test_a_cut_is_a_time_with_an_offset_or_a_position_never_both() -> None:
    for bad in (
        {},
        {"as_of": START, "position": 3},
        {"as_of": datetime(2030, 6, 1)},  # no UTC offset
        {"position": -1},
    ):
        with pytest.raises(ValueError):
            Cut(**bad)


def test_the_replayed_trial_balance_at_each_step_equals_the_ledgers_at_that_position(
    db_url: str, story: Story
) -> None:
    runner = ProjectionRunner(db_url, PROJECTIONS["ledger"], story.app.mapper)
    with psycopg.connect(db_url, autocommit=True) as conn:
        runner.catch_up(conn)
        for taken in story.taken:
            replayed = audit_history.trial_balance_as_of(
                conn, story.facility_id, Cut(position=taken.position)
            )
            live = ledger_queries.balances(
                conn, facility_id=story.facility_id, position=taken.position
            )
            assert replayed["accounts"] == live, taken.command
            assert replayed["balanced"]
            by_time = audit_history.trial_balance_as_of(
                conn, story.facility_id, Cut(as_of=taken.time)
            )
            assert by_time["accounts"] == live, taken.command
        final = audit_history.trial_balance_as_of(
            conn, story.facility_id, Cut(position=story.taken[-1].position)
        )
        with pytest.raises(UnknownFacility):
            audit_history.trial_balance_as_of(conn, story.facility_id, Cut(position=0))
        with pytest.raises(UnknownFacility):
            audit_history.trial_balance_as_of(conn, uuid4(), Cut(position=10**9))
    balances = {a["account"]: a["balance"] for a in final["accounts"]}
    # 3 nights at 20.00 confirmed and paid, 7.50 overstay (20% tax inside) not yet paid.
    assert balances["cash"] == 6000
    assert balances["accounts_receivable"] == 750
    assert balances["deferred_revenue"] == 6000
    assert balances["overstay_revenue"] + balances["tax_payable"] == 750


def test_progress_is_reported_while_the_books_are_replayed(db_url: str, story: Story) -> None:
    seen: list[tuple[int, int]] = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        books = audit_history.trial_balance_as_of(
            conn,
            story.facility_id,
            Cut(position=story.taken[-1].position),
            progress=lambda done, total: seen.append((done, total)),
            batch=2,
        )
    assert seen[-1] == (books["events_replayed"], books["events_replayed"])
    assert len(seen) > 2
