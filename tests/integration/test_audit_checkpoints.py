"""A replay of the books from a checkpoint gives exactly what a replay from zero gives.

Two facilities' bookings are interleaved (holds, confirmations, payments, an
amendment, a cancellation, a closed day, a reversal; some sold under a plan
whose Sunday costs more, so their nights are recognised at their own prices); checkpoints are taken
every few positions by a first round of replays, and a second round starts from
them. At every cut, by position and by time, both rounds and the live ledger agree,
for each facility.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from berth.adapters.audit import audit_history, ledger_checkpoints
from berth.adapters.audit.audit_history import Cut
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import ledger_queries
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.pricing import DEFAULT_PLAN, PlanTerms
from berth.domain.stay import Stay
from berth.projections import ledger_checkpoint
from berth.projections.ledger_books import entry_id
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner

START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
ARRIVAL = date(2030, 6, 2)  # a Sunday
SUNDAY = PlanTerms(base_price=1500, weekday_prices={"sun": 3100})
EVERY = 3  # positions between checkpoints: several in a short story
CAUSE = Cause(principal="key:test", channel="web", request_id="r", correlation_id="r")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=5)
        return self.now


@pytest.fixture
def app(db_url: str) -> Iterator[tuple[Reservations, Clock]]:
    clock = Clock()
    app = open_reservations(db_url, clock=clock)
    yield app, clock
    app.close()


def story(app: Reservations, clock: Clock) -> tuple[list[UUID], list[tuple[int, datetime]]]:
    """Both facilities' books, built up interleaved; each command's position and time."""
    cuts: list[tuple[int, datetime]] = []

    def take(result: Any) -> Any:
        cuts.append((result.position, app.bookings.booking(result.id).modified_on))
        return result

    facilities, pools = [], []
    for name in ("Harbour", "Airport"):
        facility = app.catalogue.register_facility(
            name=name, time_zone="Europe/London", context=CommandContext(cause=CAUSE)
        )
        pool = app.catalogue.add_pool(
            facility_id=facility.id,
            name="Long stay",
            capacity=9,
            nightly_price=2000,
            currency="EUR",
            context=CommandContext(cause=CAUSE),
        )
        app.catalogue.set_tax_rate(
            pool_id=pool.id, rate_bp=2000, context=CommandContext(cause=CAUSE)
        )
        app.pricing.create_rate_plan(
            pool_id=pool.id, code="sunday", name="Sunday", terms=SUNDAY,
            context=CommandContext(cause=CAUSE),
        )  # fmt: skip
        facilities.append(facility.id)
        pools.append(pool.id)
    bookings: list[UUID] = []
    for n in range(6):
        stay = Stay(ARRIVAL, ARRIVAL + timedelta(days=1 + n % 3))
        held = take(
            app.bookings.hold(
                pool_id=pools[n % 2],
                stay=stay,
                quantity=1,
                guest={"name": "A B"},
                rate_plan="sunday" if n % 3 else DEFAULT_PLAN,
                context=CommandContext(cause=CAUSE),
            )
        )
        bookings.append(held.id)
        confirmed = take(
            app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=CAUSE))
        )
        if n == 1:
            app.finance.reverse_entry(
                facility_id=facilities[1],
                entry_id=entry_id(confirmed.position, 0),
                reason="posted twice",
                context=CommandContext(cause=CAUSE),
            )
        take(
            app.bookings.record_payment(
                booking_id=held.id,
                amount=1000 * (n + 1),
                currency="EUR",
                method="card",
                context=CommandContext(cause=CAUSE),
            )
        )
    take(
        app.bookings.amend(
            booking_id=bookings[2],
            departure=ARRIVAL + timedelta(days=4),
            context=CommandContext(cause=CAUSE),
        )
    )
    take(app.bookings.cancel(booking_id=bookings[3], context=CommandContext(cause=CAUSE)))
    clock.now = datetime(2030, 6, 3, 1, 0, tzinfo=UTC)  # the day is over
    app.finance.close_day(
        facility_id=facilities[0], business_date=ARRIVAL, context=CommandContext(cause=CAUSE)
    )
    take(
        app.bookings.record_payment(
            booking_id=bookings[0],
            amount=500,
            currency="EUR",
            method="card",
            context=CommandContext(cause=CAUSE),
        )
    )
    return facilities, cuts


def books(conn: psycopg.Connection[Any], facility_id: UUID, cut: Cut, **kw: Any) -> dict[str, Any]:
    return audit_history.trial_balance_as_of(
        conn, facility_id, cut, **({"checkpoint_every": EVERY} | kw)
    )


def test_a_replay_from_a_checkpoint_equals_one_from_zero_and_the_live_ledger(
    db_url: str, app: tuple[Reservations, Clock]
) -> None:
    facilities, cuts = story(*app)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ProjectionRunner(db_url, PROJECTIONS["ledger"], app[0].mapper).catch_up(conn)
        started_from: list[int] = []
        for facility_id in facilities:
            for position, time in cuts:
                for cut in (Cut(position=position), Cut(as_of=time)):
                    zero = books(conn, facility_id, cut, checkpoints=False)
                    first = books(conn, facility_id, cut)  # leaves checkpoints behind
                    second = books(conn, facility_id, cut)  # starts from one, mostly
                    started_from.append(second.pop("replayed_from"))
                    assert zero.pop("replayed_from") == 0
                    first.pop("replayed_from")
                    assert first == second == zero, (facility_id, cut)
                    live = ledger_queries.balances(
                        conn, facility_id=facility_id, position=zero["through_position"]
                    )
                    assert zero["accounts"] == live, (facility_id, cut)
        stored = conn.execute(
            "SELECT count(DISTINCT facility_id), count(*) FROM audit_ledger_checkpoints"
        ).fetchone()
    assert stored is not None and stored[0] == 2 and stored[1] > 4
    assert max(started_from) > 0 and sum(1 for p in started_from if p > 0) > len(started_from) / 2


def test_replays_from_a_kept_checkpoint_equal_replays_from_zero_and_leave_it_as_it_was(
    db_url: str, app: tuple[Reservations, Clock]
) -> None:
    """Replays to later cuts start from one decoded checkpoint kept in the process.

    Each gets a copy: whether the kept books are the ones the replay wrote or
    ones decoded from the table, after replays to several later cuts (bookings
    paid, amended, cancelled, a day closed in between) they are still the
    checkpoint's, and each replay equals one from zero.
    """
    facilities, cuts = story(*app)
    facility_id = facilities[0]
    every = cuts[3][0]  # one checkpoint, early in the story
    never = 2**62  # the later replays leave none behind
    later = [Cut(position=cuts[6][0]), Cut(position=cuts[-1][0]), Cut(as_of=cuts[-2][1])]
    with psycopg.connect(db_url, autocommit=True) as conn:
        audit_history.trial_balance_as_of(
            conn, facility_id, Cut(position=cuts[4][0]), checkpoint_every=every
        )
        rows = conn.execute("SELECT position, state FROM audit_ledger_checkpoints").fetchall()
        assert [row[0] for row in rows] == [every]
        written = json.loads(zlib.decompress(rows[0][1]))
        kept = ledger_checkpoints.key(conn, facility_id, every)
        for source in ("as written", "as decoded"):
            if source == "as decoded":
                ledger_checkpoints.RESTORED.clear()
            for cut in later * 2:
                replayed = audit_history.trial_balance_as_of(
                    conn, facility_id, cut, checkpoint_every=never
                )
                zero = audit_history.trial_balance_as_of(conn, facility_id, cut, checkpoints=False)
                assert replayed.pop("replayed_from") == every, (source, cut)
                assert zero.pop("replayed_from") == 0
                assert replayed == zero, (source, cut)
                assert zero["entries"] > 0
            copy = ledger_checkpoints.RESTORED.get(kept)
            assert copy is not None, source
            assert ledger_checkpoint.state(copy) == written, source


def test_a_replay_cut_by_a_time_leaves_a_checkpoint_where_it_stopped_and_the_next_starts_there(
    db_url: str, app: tuple[Reservations, Clock]
) -> None:
    facilities, cuts = story(*app)
    every = 20  # a tail of 2 positions is worth a checkpoint at the stop
    with psycopg.connect(db_url, autocommit=True) as conn:
        for facility_id in facilities:
            cut = Cut(as_of=cuts[-2][1])  # a later event is past it
            first = books(conn, facility_id, cut, checkpoint_every=every)
            second = books(conn, facility_id, cut, checkpoint_every=every)
            zero = books(conn, facility_id, cut, checkpoints=False)
            assert first.pop("replayed_from") == zero.pop("replayed_from") == 0
            assert second.pop("replayed_from") == zero["through_position"]
            assert first == second == zero
            for _, time in cuts * 2:
                again = books(conn, facility_id, Cut(as_of=time), checkpoint_every=every)
                again.pop("replayed_from")
                alone = books(conn, facility_id, Cut(as_of=time), checkpoints=False)
                alone.pop("replayed_from")
                assert again == alone, (facility_id, time)
            stored = conn.execute(
                "SELECT count(*), max(position) FROM audit_ledger_checkpoints"
                " WHERE facility_id = %s",
                (facility_id,),
            ).fetchone()
            assert stored is not None and 0 < stored[0] <= 3 * (stored[1] // every) + 2
