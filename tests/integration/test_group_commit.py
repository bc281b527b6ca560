"""Group commit on real PostgreSQL: one batch, each command its own outcome.

The commands are lined up in one batch for certain: a first command (alone in
its batch) waits in its attempt until the others are queued behind it, in the
order the test starts them; they then share the next batch's transaction (their
events have one xmin).

A batch is pipelined (its turns do not wait for their statements' results) unless
one of its commands is running again after a pipelined batch was rolled back; the
tests of exact outcomes per command turn pipelining off (`synced`), and those of
pipelined batches say what may differ.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import Aggregate

from berth.adapters.postgres.eventstore import BerthRecorder, IdempotencyRecord, open_reservations
from berth.adapters.postgres.group_commit import GroupCommit, GroupCommitFailed
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.error import DomainError
from berth.domain.inventory import NoCapacity
from berth.domain.pool import Pool
from berth.domain.stay import Stay
from store_reads import store_reads

CAUSE = Cause(principal="test", channel="web", request_id="r", correlation_id="c")
NIGHT_A = datetime.now(UTC).date() + timedelta(days=30)
NIGHT_B = NIGHT_A + timedelta(days=1)
WAIT = 60.0  # seconds a thread may take to queue: a hang fails the test, no timing is asserted


class Refused(DomainError):
    code = "refused-by-test"


@pytest.fixture(params=[False, True], ids=["synced", "pipelined"])
def any_app(request: pytest.FixtureRequest, db_url: str) -> Iterator[Reservations]:
    opened = open_reservations(db_url, group_commit=True)
    group(opened).parallel = 1  # one batch at a time: the commands queue behind the first
    group(opened).pipelined = request.param
    yield opened
    opened.close()


@pytest.fixture
def app(db_url: str) -> Iterator[Reservations]:
    """Synced batches: each turn waits for its round trip."""
    opened = open_reservations(db_url, group_commit=True)
    group(opened).parallel = 1
    group(opened).pipelined = False
    yield opened
    opened.close()


@pytest.fixture
def pipelined_app(db_url: str) -> Iterator[Reservations]:
    opened = open_reservations(db_url, group_commit=True)
    group(opened).parallel = 1
    assert group(opened).pipelined  # the default
    yield opened
    opened.close()


def group(app: Reservations) -> GroupCommit:
    recorder = app.recorder
    assert isinstance(recorder, BerthRecorder) and recorder.group is not None
    return recorder.group


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


def hold(app: Reservations, pool_id: UUID, night: Any) -> Callable[[], object]:
    def command() -> object:
        return app.bookings.hold(
            pool_id=pool_id,
            stay=Stay(night, night + timedelta(days=1)),
            quantity=1,
            guest={"name": "G"},
            context=CommandContext(cause=CAUSE),
        ).id

    return command


def tax_rate(app: Reservations, pool_id: UUID, rate_bp: int, *, stale_first: bool) -> Callable:
    """A command on the (unlocked) pool; its first attempt saves on a stale version: a conflict."""
    attempts: list[int] = []

    def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
        attempts.append(1)
        pool = app.catalogue.pool(pool_id)
        if stale_first and len(attempts) == 1:
            pool = app.repository.get(pool_id, version=pool.version - 1)
        pool.set_tax_rate(rate_bp=rate_bp, now=now, cause=meta)
        return pool, [pool]

    def command() -> object:
        return app.execute(attempt, CommandContext(cause=CAUSE), lock=[]).version

    command.attempts = attempts  # type: ignore[attr-defined]
    return command


def refused(app: Reservations, pool_id: UUID) -> Callable[[], object]:
    """A command that changes the pool, then is refused: none of it may be stored."""

    def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
        pool = app.catalogue.pool(pool_id)
        pool.set_tax_rate(rate_bp=9999, now=now, cause=meta)
        raise Refused("no")

    return lambda: app.execute(attempt, CommandContext(cause=CAUSE), lock=[]).id


def in_one_batch(app: Reservations, commands: list[Callable[[], object]]) -> list[object]:
    """Run `commands` from threads of their own, queued in order behind a waiting command."""
    queued = group(app)._queue
    release = threading.Event()

    def blocker_attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
        assert release.wait(WAIT)
        facility = app.catalogue.facility(FACILITY[0])
        return facility, []

    blocker = threading.Thread(
        target=lambda: app.execute(blocker_attempt, CommandContext(cause=CAUSE), lock=[])
    )
    blocker.start()
    wait_until(lambda: group(app)._running == 1 and not queued)
    outcomes: list[object] = [None] * len(commands)

    def run(index: int) -> None:
        try:
            outcomes[index] = commands[index]()
        except Exception as error:
            outcomes[index] = error

    threads = []
    for index in range(len(commands)):
        thread = threading.Thread(target=run, args=(index,))
        thread.start()
        threads.append(thread)
        wait_until(lambda: len(queued) == index + 1)  # noqa: B023 - checked before the next
    release.set()
    for thread in [blocker, *threads]:
        thread.join(WAIT)
        assert not thread.is_alive()
    return outcomes


FACILITY: list[UUID] = []


def wait_until(condition: Callable[[], bool]) -> None:
    done = threading.Event()
    deadline = 0
    while not condition():
        deadline += 1
        assert deadline < WAIT * 1000, "the commands did not queue"
        done.wait(0.001)


def sold_in_a_fresh_process(db_url: str, pool_id: UUID, *nights: Any) -> list[int]:
    """What a process that never saw the batch (no group commit) reads as sold, by night."""
    fresh = open_reservations(db_url, group_commit=False)
    try:
        return [fresh.catalogue.sold(pool_id, night) for night in nights]
    finally:
        fresh.close()


class Mixed(NamedTuple):
    outcomes: list[object]
    night_pool: UUID
    other_pool: UUID
    before: int  # the other pool's version before the batch
    racing: Callable[[], object]
    batches: int  # begun before the batch


def run_mixed_batch(app: Reservations) -> Mixed:
    """One batch of holds (two nights, one night filled), a conflict and a refusal."""
    night_pool = make_pool(app, capacity=2)
    other_pool = make_pool(app, capacity=2)
    FACILITY[:] = [app.catalogue.pool(night_pool).facility_id]
    app.catalogue.set_tax_rate(pool_id=other_pool, rate_bp=100, context=CommandContext(cause=CAUSE))
    before = app.catalogue.pool(other_pool).version
    racing = tax_rate(app, other_pool, 700, stale_first=True)
    batches = group(app).batches
    outcomes = in_one_batch(
        app,
        [
            hold(app, night_pool, NIGHT_A),
            racing,  # conflicts in the batch: retried after it
            hold(app, night_pool, NIGHT_A),
            hold(app, night_pool, NIGHT_A),  # the third hold of a night of two
            hold(app, night_pool, NIGHT_B),
            refused(app, other_pool),
            hold(app, night_pool, NIGHT_B),
        ],
    )
    return Mixed(outcomes, night_pool, other_pool, before, racing, batches)


def assert_mixed_batch_stored(
    app: Reservations, db_url: str, night_pool: UUID, other_pool: UUID, before: int
) -> None:
    """The store holds exactly what was committed, and what the process read agrees."""
    assert app.catalogue.sold(night_pool, NIGHT_A) == 2
    assert app.catalogue.sold(night_pool, NIGHT_B) == 2
    with psycopg.connect(db_url) as conn:
        bookings = conn.execute(
            "SELECT count(DISTINCT originator_id) FROM berth_events WHERE topic LIKE %s",
            ("%booking:Booking%",),
        ).fetchone()
        pool_events = conn.execute(
            "SELECT count(*) FROM berth_events WHERE originator_id = %s", (other_pool,)
        ).fetchone()
    assert bookings == (4,)
    assert pool_events == (before + 1,)
    fresh = open_reservations(db_url, group_commit=False)
    try:
        pool = fresh.catalogue.pool(other_pool)
        assert isinstance(pool, Pool) and pool.tax_rate_bp == 700
        assert fresh.catalogue.sold(night_pool, NIGHT_A) == 2
        assert fresh.catalogue.sold(night_pool, NIGHT_B) == 2
    finally:
        fresh.close()


def test_each_command_of_a_batch_gets_its_own_outcome(app: Reservations, db_url: str):
    outcomes, night_pool, other_pool, before, racing, batches = run_mixed_batch(app)

    held = [outcomes[i] for i in (0, 2, 4, 6)]
    assert all(isinstance(booking, UUID) for booking in held), outcomes
    assert isinstance(outcomes[3], NoCapacity), outcomes  # the two before it are held
    assert isinstance(outcomes[5], Refused), outcomes
    assert outcomes[1] == before + 1 and len(racing.attempts) == 2  # type: ignore[attr-defined]
    assert_mixed_batch_stored(app, db_url, night_pool, other_pool, before)
    # Three batches: the waiting command's, the seven's, the conflicting one's retry.
    assert group(app).batches == batches + 3


DOOM = """
CREATE TABLE doomed (id uuid PRIMARY KEY);
CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT FROM doomed WHERE id = NEW.originator_id) THEN
    RAISE EXCEPTION 'doomed at commit';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER doom AFTER INSERT ON berth_events
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION doom();
"""


def test_a_failed_commit_fails_every_command_of_its_batch(app: Reservations, db_url: str):
    night_pool = make_pool(app, capacity=10)
    other_pool = make_pool(app, capacity=10)
    FACILITY[:] = [app.catalogue.pool(night_pool).facility_id]
    before = app.catalogue.pool(other_pool).version
    batches = group(app).batches
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(DOOM)
        conn.execute("INSERT INTO doomed VALUES (%s)", (other_pool,))

    outcomes = in_one_batch(
        app,
        [
            hold(app, night_pool, NIGHT_A),
            hold(app, night_pool, NIGHT_B),
            tax_rate(app, other_pool, 700, stale_first=False),  # fails the COMMIT
            hold(app, night_pool, NIGHT_A),
            refused(app, other_pool),
        ],
    )

    assert all(isinstance(outcome, GroupCommitFailed) for outcome in outcomes), outcomes
    assert group(app).batches == batches + 2
    with psycopg.connect(db_url) as conn:
        bookings = conn.execute(
            "SELECT count(*) FROM berth_events WHERE topic LIKE %s", ("%booking:Booking%",)
        ).fetchone()
        pool_events = conn.execute(
            "SELECT count(*) FROM berth_events WHERE originator_id = %s", (other_pool,)
        ).fetchone()
    assert bookings == (0,)
    assert pool_events == (before,)
    # Nothing uncommitted reached the cache: the nights are as the store has them.
    assert app.catalogue.sold(night_pool, NIGHT_A) == 0
    assert app.catalogue.sold(night_pool, NIGHT_B) == 0
    # And the next command commits.
    assert isinstance(hold(app, night_pool, NIGHT_A)(), UUID)
    assert app.catalogue.sold(night_pool, NIGHT_A) == 1


def test_a_batch_whose_connection_is_lost_fails_all_its_commands(
    any_app: Reservations, db_url: str
):
    app = any_app
    night_pool = make_pool(app, capacity=10)
    other_pool = make_pool(app, capacity=10)
    FACILITY[:] = [app.catalogue.pool(night_pool).facility_id]
    before = app.catalogue.pool(other_pool).version
    recorder = app.recorder
    assert isinstance(recorder, BerthRecorder)

    def terminating(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
        conn = recorder.command.conn  # the batch's, in this command's turn
        assert conn is not None
        with psycopg.connect(db_url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        pool = app.catalogue.pool(other_pool)
        pool.set_tax_rate(rate_bp=700, now=now, cause=meta)
        return pool, [pool]

    outcomes = in_one_batch(
        app,
        [
            hold(app, night_pool, NIGHT_A),  # saved in the batch before the connection is lost
            lambda: app.execute(terminating, CommandContext(cause=CAUSE), lock=[]),
            hold(app, night_pool, NIGHT_B),  # never had its turn
            refused(app, other_pool),
        ],
    )

    assert all(isinstance(outcome, GroupCommitFailed) for outcome in outcomes), outcomes
    with psycopg.connect(db_url) as conn:
        bookings = conn.execute(
            "SELECT count(*) FROM berth_events WHERE topic LIKE %s", ("%booking:Booking%",)
        ).fetchone()
        pool_events = conn.execute(
            "SELECT count(*) FROM berth_events WHERE originator_id = %s", (other_pool,)
        ).fetchone()
    assert bookings == (0,)
    assert pool_events == (before,)
    assert app.catalogue.sold(night_pool, NIGHT_A) == 0
    assert isinstance(hold(app, night_pool, NIGHT_A)(), UUID)  # the pool replaced the connection
    assert app.catalogue.sold(night_pool, NIGHT_A) == 1


def test_a_pipelined_batch_gives_each_command_its_own_outcome(
    pipelined_app: Reservations, db_url: str
):
    """The conflict rolls the pipelined batch back: every command runs again, in a
    synced batch, and ends as it would have alone. Which of the three holds of the
    full night is refused is then the order of their second attempts."""
    app = pipelined_app
    outcomes, night_pool, other_pool, before, racing, batches = run_mixed_batch(app)

    night_a = [outcomes[i] for i in (0, 2, 3)]
    assert sum(isinstance(o, UUID) for o in night_a) == 2, outcomes
    assert sum(isinstance(o, NoCapacity) for o in night_a) == 1, outcomes
    assert all(isinstance(outcomes[i], UUID) for i in (4, 6)), outcomes
    assert isinstance(outcomes[5], Refused), outcomes
    assert outcomes[1] == before + 1 and len(racing.attempts) == 2  # type: ignore[attr-defined]
    assert_mixed_batch_stored(app, db_url, night_pool, other_pool, before)
    # The waiting command's batch, the pipelined one rolled back, then synced ones.
    assert group(app).batches >= batches + 3


def test_a_pipelined_batch_commits_its_commands_in_one_transaction(
    pipelined_app: Reservations, db_url: str
):
    """Holds of one night and of another in one pipelined batch: each turn reads
    what the turns before it held (none is sold twice), and the batch commits them."""
    app = pipelined_app
    night_pool = make_pool(app, capacity=4)
    FACILITY[:] = [app.catalogue.pool(night_pool).facility_id]
    # One hold on each night first: the process has both nights cached, as they were
    # before the batch (a turn must not trust that copy once a turn before it held).
    first = [hold(app, night_pool, NIGHT_A)(), hold(app, night_pool, NIGHT_B)()]
    batches = group(app).batches

    outcomes = in_one_batch(
        app,
        [
            hold(app, night_pool, NIGHT_A),
            hold(app, night_pool, NIGHT_B),
            hold(app, night_pool, NIGHT_A),
            hold(app, night_pool, NIGHT_A),
            hold(app, night_pool, NIGHT_A),  # the fifth of a night of four
            hold(app, night_pool, NIGHT_B),
        ],
    )

    assert [type(o) for o in outcomes] == [UUID, UUID, UUID, UUID, NoCapacity, UUID], outcomes
    assert group(app).batches == batches + 2  # the waiting command's, the six's
    assert app.catalogue.sold(night_pool, NIGHT_A) == 4
    assert app.catalogue.sold(night_pool, NIGHT_B) == 3
    assert all(isinstance(booking, UUID) for booking in first)
    held = [o for o in outcomes if isinstance(o, UUID)]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM berth_events WHERE originator_id = ANY(%s)", (held,)
        ).fetchone()
    assert rows == (5,)  # each booking's one event, and the refused one's none
    assert sold_in_a_fresh_process(db_url, night_pool, NIGHT_A, NIGHT_B) == [4, 3]


def test_a_pipelined_batch_gives_each_command_its_own_position_and_idempotency_record(
    pipelined_app: Reservations, db_url: str
):
    """The batch's saves are written together at its end: consecutive ones in one
    insert, one with an Idempotency-Key on its own (its record needs the ids). Each
    command answers with its own events' position, and each record holds its own."""
    app = pipelined_app
    night_pool = make_pool(app, capacity=10)
    FACILITY[:] = [app.catalogue.pool(night_pool).facility_id]

    def positioned_hold(night: Any, key: str | None) -> Callable[[], object]:
        record = (
            IdempotencyRecord(
                key_id="k", idempotency_key=key, request_hash="h", status=201, body={}
            )
            if key
            else None
        )

        def command() -> object:
            result = app.bookings.hold(
                pool_id=night_pool,
                stay=Stay(night, night + timedelta(days=1)),
                quantity=1,
                guest={"name": "G"},
                context=CommandContext(cause=CAUSE, idempotency=record),
            )
            return result.id, result.position

        return command

    batches = group(app).batches
    outcomes = in_one_batch(
        app,
        [
            positioned_hold(NIGHT_A, None),
            positioned_hold(NIGHT_B, None),
            positioned_hold(NIGHT_A, "first"),
            positioned_hold(NIGHT_B, None),
            positioned_hold(NIGHT_A, "second"),
            positioned_hold(NIGHT_A, None),
        ],
    )

    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert group(app).batches == batches + 2
    with psycopg.connect(db_url) as conn:
        for booking_id, position in outcomes:  # type: ignore[misc]
            row = conn.execute(
                "SELECT max(notification_id) FROM berth_events WHERE originator_id = %s",
                (booking_id,),
            ).fetchone()
            assert row == (position,), (booking_id, position, row)
        records = dict(
            conn.execute(
                "SELECT idempotency_key, position FROM idempotency_keys WHERE key_id = 'k'"
            ).fetchall()
        )
    assert records == {"first": outcomes[2][1], "second": outcomes[4][1]}  # type: ignore[index]
    assert app.catalogue.sold(night_pool, NIGHT_A) == 4
    assert app.catalogue.sold(night_pool, NIGHT_B) == 2


def test_a_pipelined_batch_reads_what_its_process_never_cached_in_its_first_round_trip(
    pipelined_app: Reservations, db_url: str, monkeypatch: pytest.MonkeyPatch
):
    """Holds from a process that knows the pool but none of its nights: one night
    another process opened (read whole with the batch's locks), one never opened (the
    batch's first hold opens it, and the turns after it hold what it left). No turn
    asks the store anything more, and none runs again."""
    app = pipelined_app
    other = open_reservations(db_url, group_commit=False)
    try:
        night_pool = make_pool(other, capacity=4)
        hold(other, night_pool, NIGHT_A)()  # night A is in the store, not in app's cache
    finally:
        other.close()
    FACILITY[:] = [app.catalogue.pool(night_pool).facility_id]
    batches = group(app).batches
    reads = store_reads(monkeypatch)

    outcomes = in_one_batch(
        app,
        [
            hold(app, night_pool, NIGHT_B),  # opens night B
            hold(app, night_pool, NIGHT_A),
            hold(app, night_pool, NIGHT_B),
            hold(app, night_pool, NIGHT_A),
            hold(app, night_pool, NIGHT_B),
        ],
    )

    assert all(isinstance(o, UUID) for o in outcomes), outcomes
    # (The waiting command, in a thread of its own, brings its cached facility up to date.)
    assert [read for read in reads if read != FACILITY[0]] == []
    assert group(app).batches == batches + 2  # the waiting command's, the five's
    assert app.catalogue.sold(night_pool, NIGHT_A) == 3
    assert app.catalogue.sold(night_pool, NIGHT_B) == 3
    assert sold_in_a_fresh_process(db_url, night_pool, NIGHT_A, NIGHT_B) == [3, 3]


def test_a_pipelined_batch_refuses_on_a_never_cached_night_only_what_is_really_full(
    pipelined_app: Reservations, db_url: str
):
    """A full night the process never cached, read whole by the batch's first round
    trip: after a turn cancels one of its holds, the next turn must hold on what that
    turn left, not on the full night the round trip read. A refusal on stale state
    writes nothing, so no version conflict would catch it: only the outcome does."""
    app = pipelined_app
    other = open_reservations(db_url, group_commit=False)
    try:
        night_pool = make_pool(other, capacity=2)
        first = hold(other, night_pool, NIGHT_A)()
        hold(other, night_pool, NIGHT_A)()  # night A full, in the store only
    finally:
        other.close()
    assert isinstance(first, UUID)
    FACILITY[:] = [app.catalogue.pool(night_pool).facility_id]
    # The process knows the booking (as a cancel would), not the night.
    app.bookings.last_seen(first)
    batches = group(app).batches

    def cancel() -> object:
        return app.bookings.cancel(booking_id=first, context=CommandContext(cause=CAUSE)).version

    outcomes = in_one_batch(
        app,
        [
            hold(app, night_pool, NIGHT_A),  # refused: full
            cancel,  # gives one back
            hold(app, night_pool, NIGHT_A),  # takes it
            hold(app, night_pool, NIGHT_A),  # refused: full again
        ],
    )

    assert isinstance(outcomes[0], NoCapacity), outcomes
    assert isinstance(outcomes[2], UUID), outcomes
    assert isinstance(outcomes[3], NoCapacity), outcomes
    assert group(app).batches == batches + 2  # no command ran twice
    assert app.catalogue.sold(night_pool, NIGHT_A) == 2
    assert sold_in_a_fresh_process(db_url, night_pool, NIGHT_A) == [2]
