"""Auditors' reads of the event store: an aggregate's history, its state as of a cut, the books.

Everything here is computed from `berth_events` alone, never from a read model:
events are read in order from a server-side cursor inside one repeatable-read,
read-only transaction (one snapshot of the store), mapped with the command
application's mapper (old event versions are upcast on the way) and replayed
with the pure code of `berth.projections.history` and `.ledger_replay`.

A cut is a position or a time. `position=n`: the events stored at positions up
to n. `as_of=t`: the events up to, not including, the first one stamped after t,
in store order (an aggregate's: in version order). Stopping at the first later
event, rather than picking every event stamped before t, keeps the result a
prefix of the history, as the store stood then; the answer names the last
position it includes, so the same state is also reachable by position.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate, AggregateEvent
from eventsourcing.persistence import Mapper, StoredEvent

from berth.adapters.audit import ledger_checkpoints
from berth.adapters.tracking.projection_store import event_mapper
from berth.domain.catalog_commands import UnknownFacility
from berth.domain.error import NotFound
from berth.projections import history, ledger
from berth.projections.ledger_replay import BooksReplay

Connection = psycopg.Connection[Any]
# progress(done, total): events replayed so far, and how many there are to replay.
Progress = Callable[[int, int], None]

BATCH = 5_000
CURSOR = "berth_audit_replay"
MAX_POSITION = 2**63 - 1

E = TypeVar("E", bound=AggregateEvent)


class UnknownAggregate(NotFound):
    code = "unknown-aggregate"


class NotYetCreated(NotFound):
    """The aggregate exists, but had no event yet at the cut."""

    code = "not-yet-created"


@dataclass(frozen=True)
class Cut:
    """Exactly one of a time (aware) and a position."""

    as_of: datetime | None = None
    position: int | None = None

    def __post_init__(self) -> None:
        if (self.as_of is None) == (self.position is None):
            raise ValueError("give a time (as of) or a position, exactly one of the two")
        if self.as_of is not None and self.as_of.utcoffset() is None:
            raise ValueError(f"the time {self.as_of.isoformat()} needs a UTC offset")
        if self.position is not None and not 0 <= self.position <= MAX_POSITION:
            raise ValueError(f"a position is 0 to {MAX_POSITION}, not {self.position}")

    @property
    def last_position(self) -> int:
        return MAX_POSITION if self.position is None else self.position

    def excludes(self, event: AggregateEvent) -> bool:
        """Whether `event` (read within `last_position`) is past a time cut."""
        return self.as_of is not None and event.timestamp > self.as_of

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "position": self.position,
        }


@dataclass(frozen=True)
class HistoryPage:
    steps: list[history.Step]
    next_cursor: int | None  # the version to pass as `after` for the next page


@functools.cache
def mapper() -> Mapper[UUID]:
    return event_mapper()


def history_page(
    conn: Connection, aggregate_id: UUID, *, after: int = 0, limit: int = 100
) -> HistoryPage:
    """The aggregate's events after version `after`, at most `limit`, each with its state.

    The state after an event needs every event before it, so the replay starts
    at version 1 whatever the page.
    """
    with _snapshot(conn):
        last_version = _last_version(conn, aggregate_id)
        if last_version is None:
            raise UnknownAggregate(f"no aggregate {aggregate_id} in the event store")
        stop = min(after + limit, last_version)
        with _aggregate_events(conn, aggregate_id, last_version=stop) as events:
            steps = [
                history.step(position, event, aggregate)
                for position, event, aggregate in history.replay(events)
                if event.originator_version > after
            ]
    return HistoryPage(steps, stop if stop < last_version else None)


def iter_history(conn: Connection, aggregate_id: UUID) -> Generator[history.Step, None, None]:
    """Every step of the aggregate's history, streamed (for the CLI).

    It holds a server-side cursor and a transaction on `conn` while it runs:
    consume it fully, or close it (`contextlib.closing`), before using `conn` again.
    """
    with _snapshot(conn):
        if _last_version(conn, aggregate_id) is None:
            raise UnknownAggregate(f"no aggregate {aggregate_id} in the event store")
        with _aggregate_events(conn, aggregate_id) as events:
            for position, event, aggregate in history.replay(events):
                yield history.step(position, event, aggregate)


def state_as_of(
    conn: Connection, aggregate_id: UUID, cut: Cut, *, progress: Progress | None = None
) -> history.Step:
    """The aggregate's last event within the cut and the state it left."""
    with _snapshot(conn):
        last_version = _last_version(conn, aggregate_id)
        if last_version is None:
            raise UnknownAggregate(f"no aggregate {aggregate_id} in the event store")
        last: tuple[int, Aggregate.Event, Aggregate] | None = None
        with _aggregate_events(conn, aggregate_id, last_position=cut.last_position) as events:
            replayed = history.replay(_within(events, cut))
            for done, (position, event, aggregate) in enumerate(replayed):
                last = (position, event, aggregate)
                if progress is not None and done % BATCH == 0:
                    progress(done, last_version)
        if last is None:
            raise NotYetCreated(f"aggregate {aggregate_id} had no events at {_describe(cut)}")
        if progress is not None:
            progress(last[2].version, last[2].version)
        return history.step(*last)


def trial_balance_as_of(
    conn: Connection,
    facility_id: UUID,
    cut: Cut,
    *,
    progress: Progress | None = None,
    batch: int = BATCH,
    checkpoints: bool = True,
) -> dict[str, Any]:
    """The facility's trial balance from replaying every ledger event within the cut.

    With `checkpoints`, the replay starts from the nearest checkpoint at or below
    the cut that is bound to this store's chain (`ledger_checkpoints.restored`),
    else from zero. It only reads: checkpoints are written by `berth audit
    checkpoint` (`berth.adapters.audit.checkpoint_writer`), never by the role
    that answers. Without, it starts from zero (for an auditor who trusts only
    the events).
    """
    with _snapshot(conn):
        start = None
        if checkpoints:
            start = ledger_checkpoints.restored(
                conn, facility_id, last_position=cut.last_position, as_of=cut.as_of
            )
        after, replay = (0, BooksReplay(facility_id)) if start is None else start
        replay_ledger(conn, replay, cut, after=after, progress=progress, batch=batch)
    if progress is not None:
        progress(replay.events, replay.events)
    if not replay.known:
        raise UnknownFacility(f"no facility {facility_id} at {_describe(cut)}")
    return replay.trial_balance() | cut.as_dict() | {"replayed_from": after}


# on_event(replay, position): called before each ledger event within the cut is applied.
OnEvent = Callable[[BooksReplay, int], None]


def replay_ledger(
    conn: Connection,
    replay: BooksReplay,
    cut: Cut,
    *,
    after: int,
    progress: Progress | None = None,
    batch: int = BATCH,
    before_each: OnEvent | None = None,
) -> None:
    """Apply to `replay` every ledger event after `after` within the cut, in store order.

    The caller holds the snapshot. `before_each` sees the books as they are
    before each event (what a checkpoint writer takes).
    """
    topics = sorted(ledger.TOPICS)
    row = conn.execute(
        "SELECT count(*) FROM berth_events WHERE topic = ANY(%s)"
        " AND notification_id > %s AND notification_id <= %s",
        (topics, after, cut.last_position),
    ).fetchone()
    total = replay.events + (int(row[0]) if row else 0)
    query = (
        "SELECT notification_id, originator_id, originator_version, topic, state"
        " FROM berth_events WHERE topic = ANY(%s) AND notification_id > %s"
        " AND notification_id <= %s ORDER BY notification_id"
    )
    with _stream(conn, query, (topics, after, cut.last_position), batch) as rows:
        for position, event in _mapped(rows):
            if cut.excludes(event):
                break
            if before_each is not None:
                before_each(replay, position)
            replay.apply(position, event)
            if progress is not None and replay.events % batch == 0:
                progress(replay.events, total)


# -- reading ----------------------------------------------------------------------


@contextmanager
def _snapshot(conn: Connection) -> Iterator[None]:
    """One repeatable-read, read-only transaction: every read sees the same store."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _last_version(conn: Connection, aggregate_id: UUID) -> int | None:
    row = conn.execute(
        "SELECT max(originator_version) FROM berth_events WHERE originator_id = %s",
        (aggregate_id,),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


@contextmanager
def _aggregate_events(
    conn: Connection,
    aggregate_id: UUID,
    *,
    last_version: int = MAX_POSITION,
    last_position: int = MAX_POSITION,
) -> Iterator[Iterator[tuple[int, Aggregate.Event]]]:
    query = (
        "SELECT notification_id, originator_id, originator_version, topic, state"
        " FROM berth_events WHERE originator_id = %s AND originator_version <= %s"
        " AND notification_id <= %s ORDER BY originator_version"
    )
    with _stream(conn, query, (aggregate_id, last_version, last_position), BATCH) as rows:
        yield _aggregate_only(_mapped(rows))


def _aggregate_only(
    events: Iterator[tuple[int, AggregateEvent]],
) -> Iterator[tuple[int, Aggregate.Event]]:
    for position, event in events:
        assert isinstance(event, Aggregate.Event)
        yield position, event


def _mapped(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, AggregateEvent]]:
    """Stored rows as domain events, through the application's mapper (upcasting included)."""
    to_event = mapper().to_domain_event
    for position, originator_id, version, topic, state in rows:
        event = to_event(
            StoredEvent(
                originator_id=originator_id,
                originator_version=version,
                topic=topic,
                state=bytes(state),
            )
        )
        assert isinstance(event, AggregateEvent)
        yield position, event


def _within(events: Iterator[tuple[int, E]], cut: Cut) -> Iterator[tuple[int, E]]:
    """The events up to the first one past the cut's time (the SQL applies its position)."""
    for position, event in events:
        if cut.excludes(event):
            return
        yield position, event


@contextmanager
def _stream(
    conn: Connection, query: str, params: tuple[Any, ...], batch: int
) -> Iterator[Iterator[tuple[Any, ...]]]:
    """Rows from a server-side cursor, `batch` at a time (the caller holds the transaction).

    A context, not a generator: the cursor is closed when the `with` ends, inside
    the caller's transaction and on its thread, however far the rows were read.
    A generator cut short would keep it open until the garbage collector closed
    it, at any time, on any thread, perhaps inside another request's fetch on
    the same pooled connection (a hang, or another request's cursor closed).
    Only one is open on a connection at a time.
    """
    cursor = conn.cursor(CURSOR)
    try:
        cursor.itersize = batch
        cursor.execute(query.encode(), params)
        yield iter(cursor)
    finally:
        cursor.close()


def _describe(cut: Cut) -> str:
    return f"position {cut.position}" if cut.as_of is None else cut.as_of.isoformat()
