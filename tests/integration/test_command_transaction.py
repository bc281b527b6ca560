"""A command's own transaction on real PostgreSQL: its locks, its reads, its conflicts.

Each `Reservations` here stands for a process of its own (its own cache), so
what one saves reaches the other only through the database. They save each
command alone (no group commit, whatever BERTH_GROUP_COMMIT says): these are the
round trips of that path; a batch's are tests/integration/test_group_commit.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import OperationalError

from berth.adapters.postgres.eventstore import _one_sync, open_reservations
from berth.adapters.postgres.night_lock import advisory_key
from berth.domain.application import NIGHT_SNAPSHOT_INTERVAL, Reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.inventory import NoCapacity, inventory_id
from berth.domain.stay import Stay
from store_reads import store_reads

CAUSE = Cause(principal="test", channel="web", request_id="r", correlation_id="c")
NIGHT = datetime.now(UTC).date() + timedelta(days=30)
STAY = Stay(NIGHT, NIGHT + timedelta(days=1))


@pytest.fixture
def two(db_url: str) -> Iterator[tuple[Reservations, Reservations]]:
    first = open_reservations(db_url, group_commit=False)
    second = open_reservations(db_url, group_commit=False)
    yield first, second
    first.close()
    second.close()


def make_pool(app: Reservations, capacity: int) -> UUID:
    facility = app.catalogue.register_facility(
        name="P1", time_zone="UTC", context=CommandContext(cause=CAUSE)
    )
    return app.catalogue.add_pool(
        facility_id=facility.id,
        name="long stay",
        capacity=capacity,
        nightly_price=1000,
        currency="EUR",
        context=CommandContext(cause=CAUSE),
    ).id


def hold(app: Reservations, pool_id: UUID) -> UUID:
    return app.bookings.hold(
        pool_id=pool_id,
        stay=STAY,
        quantity=1,
        guest={"name": "G"},
        context=CommandContext(cause=CAUSE),
    ).id


def test_a_night_another_process_changed_is_read_afresh_under_its_lock(
    two: tuple[Reservations, Reservations],
):
    first, second = two
    pool_id = make_pool(first, capacity=2)
    hold(first, pool_id)  # the first process now has the night in its cache
    cached = first.repository.cache.get(inventory_id(pool_id, NIGHT))  # type: ignore[union-attr]

    hold(second, pool_id)  # the night is full, as only the database knows

    with pytest.raises(NoCapacity):
        hold(first, pool_id)
    night = first.catalogue.night_inventory(pool_id, NIGHT)
    assert night is not None
    assert night.version == cached.version + 1
    assert first.catalogue.sold(pool_id, NIGHT) == 2


def test_a_refused_command_leaves_no_lock_and_no_transaction_open(
    two: tuple[Reservations, Reservations], db_url: str
):
    first, _ = two
    pool_id = make_pool(first, capacity=1)
    hold(first, pool_id)

    with pytest.raises(NoCapacity):
        hold(first, pool_id)

    key = advisory_key(inventory_id(pool_id, NIGHT))
    with psycopg.connect(db_url, autocommit=True) as conn:
        taken = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        open_transactions = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%%'"
        ).fetchone()
    assert taken == (True,)
    assert open_transactions == (0,)


def test_a_save_that_conflicts_is_rolled_back_and_tried_again_in_a_new_transaction(
    two: tuple[Reservations, Reservations],
):
    first, second = two
    pool_id = make_pool(first, capacity=5)
    references = iter(["CLASH1", "CLASH1", "FRESH2"])
    first.make_reference = second.make_reference = lambda: next(references)

    one = first.bookings.hold(
        pool_id=pool_id,
        stay=STAY,
        quantity=1,
        guest={"name": "A"},
        context=CommandContext(cause=CAUSE),
    )
    # Its first try claims the same reference: the save conflicts, the retry gets a new one.
    other = second.bookings.hold(
        pool_id=pool_id,
        stay=STAY,
        quantity=1,
        guest={"name": "B"},
        context=CommandContext(cause=CAUSE),
    )

    assert first.bookings.booking(one.id).reference == "CLASH1"
    assert first.bookings.booking(other.id).reference == "FRESH2"
    assert first.catalogue.sold(pool_id, NIGHT) == second.catalogue.sold(pool_id, NIGHT) == 2


def test_a_booking_another_process_moved_is_confirmed_on_its_new_nights(
    two: tuple[Reservations, Reservations],
):
    """The first process locks the nights its stale copy had; the command still reads
    the booking current and firms the nights it holds now."""
    first, second = two
    pool_id = make_pool(first, capacity=3)
    booking_id = hold(first, pool_id)
    later = NIGHT + timedelta(days=5)
    second.bookings.amend(
        booking_id=booking_id,
        arrival=later,
        departure=later + timedelta(days=2),
        context=CommandContext(cause=CAUSE),
    )
    seen = first.bookings.last_seen(booking_id)
    assert seen.stay == STAY  # the first process has not read the move

    result = first.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=CAUSE))

    booking = second.bookings.booking(booking_id)
    assert booking.status == "confirmed"
    assert result.version == booking.version
    for night in (later, later + timedelta(days=1)):
        inventory = second.catalogue.night_inventory(pool_id, night)
        assert inventory is not None
        assert inventory.sold(now=datetime.now(UTC)) == 1
        assert inventory.allocations[str(booking_id)]["expires_at"] is None  # firm
    old = second.catalogue.night_inventory(pool_id, NIGHT)
    assert old is not None
    assert old.sold(now=datetime.now(UTC)) == 0


def test_a_confirm_asks_the_store_nothing_before_its_transaction(
    two: tuple[Reservations, Reservations], db_url: str
):
    """Its booking is read in the round trip that takes its locks, not before."""
    first, _ = two
    pool_id = make_pool(first, capacity=3)
    booking_id = hold(first, pool_id)
    reads: list[object] = []
    recorder = first.recorder
    select = recorder.select_events

    def counted(originator_id: object, **kwargs: object) -> object:
        if recorder.command.conn is None:  # type: ignore[attr-defined]
            reads.append(originator_id)
        return select(originator_id, **kwargs)  # type: ignore[arg-type]

    recorder.select_events = counted  # type: ignore[method-assign]
    first.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=CAUSE))
    assert reads == []


def test_a_failed_statement_is_reported_not_the_pipeline_abort_on_top_of_it(db_url: str):
    """psycopg may report the skipped statements' PipelineAborted last, over the failure."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero), _one_sync(conn):  # type: ignore[arg-type]
            try:
                raise psycopg.errors.DivisionByZero("division by zero")
            except psycopg.Error:
                raise psycopg.errors.PipelineAborted("pipeline aborted") from None
        # ...and from a real pipeline: a failed statement, then one it made skip.
        with pytest.raises(psycopg.errors.DivisionByZero), _one_sync(conn):  # type: ignore[arg-type]
            conn.execute("SELECT 1/0")
            conn.execute("SELECT 1")
        with pytest.raises(psycopg.errors.PipelineAborted), _one_sync(conn):  # type: ignore[arg-type]
            raise psycopg.errors.PipelineAborted("nothing failed before it")


def test_a_hold_reads_a_night_it_never_saw_in_the_round_trip_that_locks_it(
    two: tuple[Reservations, Reservations], monkeypatch: pytest.MonkeyPatch
):
    """From its latest snapshot and the events after it, in the first round trip."""
    first, second = two
    pool_id = make_pool(first, capacity=2 * NIGHT_SNAPSHOT_INTERVAL)
    holds = NIGHT_SNAPSHOT_INTERVAL + 7  # a snapshot, and events after it
    for _ in range(holds):
        hold(first, pool_id)
    assert first.snapshots is not None
    assert list(first.snapshots.get(inventory_id(pool_id, NIGHT)))  # there is a snapshot
    second.catalogue.pool(pool_id)  # the second process knows the pool, not the night
    reads = store_reads(monkeypatch)

    hold(second, pool_id)

    assert reads == []
    night = second.catalogue.night_inventory(pool_id, NIGHT)
    assert night is not None
    assert night.sold(now=datetime.now(UTC)) == holds + 1
    assert night.version == holds + 2  # opened, then the allocations
    assert first.catalogue.sold(pool_id, NIGHT) == holds + 1


def test_a_hold_on_a_night_never_opened_asks_the_store_nothing_more(
    two: tuple[Reservations, Reservations], monkeypatch: pytest.MonkeyPatch
):
    first, _ = two
    pool_id = make_pool(first, capacity=3)
    first.catalogue.pool(pool_id)
    reads = store_reads(monkeypatch)

    booking_id = hold(first, pool_id)

    assert reads == []
    assert first.catalogue.sold(pool_id, NIGHT) == 1
    assert first.bookings.booking(booking_id).status == "held"


def test_a_night_is_snapshotted_from_the_command_copy_as_the_store_would_rebuild_it(
    two: tuple[Reservations, Reservations], monkeypatch: pytest.MonkeyPatch
):
    first, _ = two
    pool_id = make_pool(first, capacity=2 * NIGHT_SNAPSHOT_INTERVAL)
    night_id = inventory_id(pool_id, NIGHT)
    interval = NIGHT_SNAPSHOT_INTERVAL
    for _ in range(interval - 2):
        hold(first, pool_id)  # the night one version short of a snapshot
    reads = store_reads(monkeypatch)
    hold(first, pool_id)  # its version is the interval: a snapshot
    assert reads == []  # neither the command nor its snapshot read the store
    assert first.snapshots is not None
    (snapshot,) = first.snapshots.get(night_id)
    assert snapshot.originator_version == interval
    rebuilt = project_aggregate(None, first.events.get(night_id, lte=interval))
    assert rebuilt is not None
    assert snapshot.state == type(snapshot).take(rebuilt).state
    assert len(snapshot.state["allocations"]) == interval - 1


def test_a_night_lock_not_had_within_the_statement_timeout_is_not_tried_again(
    db_url: str, monkeypatch: pytest.MonkeyPatch
):
    """The command gives up (the API answers 503) rather than wait out nine more timeouts."""
    monkeypatch.setenv("BERTH_DB_STATEMENT_TIMEOUT", "0.5")
    app = open_reservations(db_url)
    try:
        pool_id = make_pool(app, capacity=3)
        app.catalogue.pool(pool_id)
        recorder = app.recorder
        connect = recorder._pool_connection  # type: ignore[attr-defined]
        begins: list[int] = []

        def counted() -> Any:
            begins.append(1)
            return connect()

        recorder._pool_connection = counted  # type: ignore[attr-defined]
        with psycopg.connect(db_url, autocommit=True) as holder:
            holder.execute(
                "SELECT pg_advisory_lock(%s)", (advisory_key(inventory_id(pool_id, NIGHT)),)
            )
            with pytest.raises(OperationalError) as raised:
                hold(app, pool_id)
        assert isinstance(raised.value.__cause__, psycopg.errors.QueryCanceled)
        assert len(begins) == 1
    finally:
        app.close()
