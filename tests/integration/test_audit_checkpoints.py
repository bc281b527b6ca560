"""A replay of the books from a checkpoint gives exactly what a replay from zero gives.

Two facilities' bookings are interleaved (holds, confirmations, payments, an
amendment, a cancellation, a closed day, a reversal; some sold under a plan
whose Sunday costs more, so their nights are recognised at their own prices);
`berth audit checkpoint` (`checkpoint_writer`, as the owner) leaves checkpoints
every few positions, and replays as the application role start from them. At
every cut, by position and by time, they, replays from zero and the live ledger
agree, for each facility. A checkpoint not bound to the store's hash chain is
never used, and the application role cannot write one (also in
test_least_privilege.py).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import errors

from berth import cli
from berth.adapters.audit import audit_history, checkpoint_writer, ledger_checkpoints
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
    return audit_history.trial_balance_as_of(conn, facility_id, cut, **kw)


def checkpoint(owner_db_url: str, facility_id: UUID, **kw: Any) -> checkpoint_writer.Written:
    with psycopg.connect(owner_db_url, autocommit=True) as conn:
        return checkpoint_writer.write(conn, facility_id, **({"every": EVERY} | kw))


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    """Decoded checkpoints are kept per process: each test starts from the table."""
    ledger_checkpoints.RESTORED.clear()
    yield
    ledger_checkpoints.RESTORED.clear()


def test_a_replay_from_a_checkpoint_equals_one_from_zero_and_the_live_ledger(
    db_url: str, app_db_url: str, owner_db_url: str, app: tuple[Reservations, Clock]
) -> None:
    facilities, cuts = story(*app)
    for facility_id in facilities:
        assert checkpoint(owner_db_url, facility_id).written
    with psycopg.connect(db_url, autocommit=True) as conn:
        ProjectionRunner(db_url, PROJECTIONS["ledger"], app[0].mapper).catch_up(conn)
    with psycopg.connect(app_db_url, autocommit=True) as conn:  # as the API answers
        started_from: list[int] = []
        for facility_id in facilities:
            for position, time in cuts:
                for cut in (Cut(position=position), Cut(as_of=time)):
                    zero = books(conn, facility_id, cut, checkpoints=False)
                    replayed = books(conn, facility_id, cut)
                    again = books(conn, facility_id, cut)  # from the decoded one kept
                    started_from.append(replayed.pop("replayed_from"))
                    assert again.pop("replayed_from") == started_from[-1]
                    assert zero.pop("replayed_from") == 0
                    assert replayed == again == zero, (facility_id, cut)
                    live = ledger_queries.balances(
                        conn, facility_id=facility_id, position=zero["through_position"]
                    )
                    assert zero["accounts"] == live, (facility_id, cut)
        stored = conn.execute(
            "SELECT count(DISTINCT facility_id), count(*) FROM audit_ledger_checkpoints"
        ).fetchone()
    assert stored is not None and stored[0] == 2 and stored[1] > 4
    assert max(started_from) > 0 and sum(1 for p in started_from if p > 0) > len(started_from) / 2


def test_the_command_goes_on_from_its_last_checkpoint_and_a_second_run_writes_nothing(
    app_db_url: str, owner_db_url: str, app: tuple[Reservations, Clock]
) -> None:
    reservations, clock = app
    facilities, cuts = story(reservations, clock)
    facility_id = facilities[0]
    first = checkpoint(owner_db_url, facility_id)
    assert first.replayed_from == 0 and first.written[-1] == first.head
    assert checkpoint(owner_db_url, facility_id).written == ()  # nothing new: nothing written
    later = reservations.catalogue.register_facility(
        name="Later", time_zone="UTC", context=CommandContext(cause=CAUSE)
    )
    second = checkpoint(owner_db_url, facility_id)
    # Only the other facility's registration was replayed (counted and passed over).
    assert second.replayed_from == first.head and second.replayed == 1
    assert second.written == (second.head,) and second.head > first.head
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        for cut in (Cut(position=second.head), Cut(as_of=cuts[-1][1])):
            replayed = books(conn, facility_id, cut)
            zero = books(conn, facility_id, cut, checkpoints=False)
            assert replayed.pop("replayed_from") == (second.head if cut.position else first.head), (
                cut
            )
            zero.pop("replayed_from")
            assert replayed == zero, cut
    assert later.id not in facilities


def test_the_application_role_cannot_write_a_checkpoint_and_answers_without_one(
    app_db_url: str, owner_db_url: str, app: tuple[Reservations, Clock]
) -> None:
    facilities, cuts = story(*app)
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        answer = books(conn, facilities[0], Cut(position=cuts[-1][0]))
        assert answer["replayed_from"] == 0 and answer["entries"] > 0
        with pytest.raises(errors.InsufficientPrivilege):
            checkpoint_writer.write(conn, facilities[0], every=EVERY)
        count = conn.execute("SELECT count(*) FROM audit_ledger_checkpoints").fetchone()
    assert count == (0,)


def test_a_checkpoint_not_bound_to_the_chain_is_not_used(
    app_db_url: str, owner_db_url: str, app: tuple[Reservations, Clock]
) -> None:
    """Forged books just below the cut, inserted as the owner with a wrong link, are passed over.

    The same books with the chain's own link would be used: binding a
    checkpoint to the chain refuses one of another history, while only the
    owner may write one at all.
    """
    facilities, cuts = story(*app)
    facility_id = facilities[0]
    # Honest ones up to the fifth command only: none between the forged one and the cut.
    written = checkpoint(owner_db_url, facility_id, every=cuts[2][0], through=cuts[4][0])
    honest = written.written[-1]
    cut = Cut(position=cuts[-1][0])
    with psycopg.connect(owner_db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT state, latest FROM audit_ledger_checkpoints WHERE position = %s", (honest,)
        ).fetchone()
        assert row is not None
        state = json.loads(zlib.decompress(row[0]))
        state["debits"]["cash"] += 1_000_000  # forged books
        state["credits"]["accounts_receivable"] += 1_000_000
        forged = ledger_checkpoints.Checkpoint(
            cut.last_position - 1,
            bytes(32),  # not the chain's link there
            row[1],
            zlib.compress(json.dumps(state).encode()),
        )
        assert ledger_checkpoints.save(conn, facility_id, [forged]) == 1
        link = ledger_checkpoints.chain_link(conn, forged.position)
        assert link is not None and link != forged.link
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        replayed = books(conn, facility_id, cut)
        zero = books(conn, facility_id, cut, checkpoints=False)
        assert replayed.pop("replayed_from") == honest  # the last bound one below
        zero.pop("replayed_from")
        assert replayed == zero
    with psycopg.connect(owner_db_url, autocommit=True) as conn:
        bound = replace(forged, position=forged.position - 1)
        bound = replace(bound, link=ledger_checkpoints.chain_link(conn, bound.position) or b"")
        ledger_checkpoints.save(conn, facility_id, [bound])
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        used = books(conn, facility_id, cut)
    assert used.pop("replayed_from") == bound.position
    assert used != zero and used["total_debits"] > 1_000_000  # used: hence owner-only


def test_replays_from_a_kept_checkpoint_equal_replays_from_zero_and_leave_it_as_it_was(
    app_db_url: str, owner_db_url: str, app: tuple[Reservations, Clock]
) -> None:
    """Replays to later cuts start from one decoded checkpoint kept in the process.

    Each gets a copy: after replays to several later cuts (bookings paid,
    amended, cancelled, a day closed in between) the kept books are still the
    checkpoint's, and each replay equals one from zero.
    """
    facilities, cuts = story(*app)
    facility_id = facilities[0]
    at = cuts[3][0]  # one checkpoint, early in the story
    written = checkpoint(owner_db_url, facility_id, every=2**62, through=at)
    assert written.written == (at,)
    later = [Cut(position=cuts[6][0]), Cut(position=cuts[-1][0]), Cut(as_of=cuts[-2][1])]
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        rows = conn.execute("SELECT position, state, link FROM audit_ledger_checkpoints").fetchall()
        assert [row[0] for row in rows] == [at]
        stored = json.loads(zlib.decompress(rows[0][1]))
        kept = ledger_checkpoints.key(conn, facility_id, at, bytes(rows[0][2]))
        for round_ in ("decoded", "decoded again"):
            ledger_checkpoints.RESTORED.clear()
            for cut in later * 2:
                replayed = books(conn, facility_id, cut)
                zero = books(conn, facility_id, cut, checkpoints=False)
                assert replayed.pop("replayed_from") == at, (round_, cut)
                assert zero.pop("replayed_from") == 0
                assert replayed == zero, (round_, cut)
                assert zero["entries"] > 0
            copy = ledger_checkpoints.RESTORED.get(kept)
            assert copy is not None, round_
            assert ledger_checkpoint.state(copy) == stored, round_


def test_berth_audit_checkpoint_shows_progress_writes_as_the_owner_and_is_idempotent(
    app_db_url: str,
    owner_db_url: str,
    app: tuple[Reservations, Clock],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    facilities, cuts = story(*app)
    monkeypatch.setenv("BERTH_DATABASE_URL", app_db_url)
    monkeypatch.delenv("BERTH_MIGRATE_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as refused:  # as the application role
        cli.main(["audit", "checkpoint"])
    assert "permission denied" in str(refused.value) and "BERTH_MIGRATE_DATABASE_URL" in str(
        refused.value
    )
    capsys.readouterr()
    monkeypatch.setenv("BERTH_MIGRATE_DATABASE_URL", owner_db_url)
    cli.main(["audit", "checkpoint", "--every", str(EVERY)])
    out, err = capsys.readouterr()
    first = json.loads(out)
    assert [UUID(run["facility_id"]) for run in first] == facilities
    assert all(run["written"] and run["replayed"] > 0 for run in first)
    assert f"checkpointing {facilities[0]} (1/2)" in err and "(2/2)" in err
    cli.main(["audit", "checkpoint", "--every", str(EVERY)])
    again = json.loads(capsys.readouterr().out)
    assert [run["written"] for run in again] == [[], []]
    assert [run["replayed_from"] for run in again] == [run["head"] for run in first]
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        for facility_id in facilities:
            cut = Cut(position=cuts[-1][0])
            replayed, zero = (
                books(conn, facility_id, cut),
                books(conn, facility_id, cut, checkpoints=False),
            )
            assert replayed.pop("replayed_from") > 0
            zero.pop("replayed_from")
            assert replayed == zero
