"""`berth audit checkpoint`: the replay checkpoints, written apart from the role that answers.

An auditor's as-of trial balance starts from the nearest checkpoint at or
below its cut, so whoever can write one decides where later answers start. The
application role may only read them (migration 0195); this runs as the owner
(`BERTH_MIGRATE_DATABASE_URL`), e.g. every night. For each facility it replays
the ledger events from the latest checkpoint bound to the chain (or from zero)
up to the chain's head, in one repeatable-read snapshot, and leaves a
checkpoint at the last multiple of `every` positions before each ledger event
it passes (one per gap between events) and one at the head, each naming the
chain's link at its position. A second run over the same store replays nothing
and writes nothing; a run cut short commits nothing, and the next one starts
where the last committed run ended. Runs take turns (a session advisory lock
taken before the snapshot), so overlapping ones never conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from berth.adapters.audit import ledger_checkpoints
from berth.adapters.audit.audit_history import Cut, Progress, replay_ledger
from berth.domain.facility import Facility
from berth.projections.ledger_replay import BooksReplay

Connection = psycopg.Connection[Any]

# Positions between checkpoints of a facility's history: a cut replays at most this many
# positions after the nearest one (about 0.3-0.45 MB each for 3,000 bookings).
EVERY = 2_000
# One run at a time (per database): an overlapping one waits, then finds the rows written.
LOCK_KEY = int.from_bytes(b"berthckp", "big", signed=True)


@dataclass(frozen=True)
class Written:
    """What one run did for one facility."""

    facility_id: UUID
    replayed_from: int  # the checkpoint it started from (0: none)
    head: int  # the chain's last position in its snapshot
    replayed: int  # ledger events replayed
    written: tuple[int, ...]  # the positions of the checkpoints it added

    def as_dict(self) -> dict[str, Any]:
        return {
            "facility_id": str(self.facility_id),
            "replayed_from": self.replayed_from,
            "head": self.head,
            "replayed": self.replayed,
            "written": list(self.written),
        }


def facilities(conn: Connection) -> list[UUID]:
    """Every facility registered in the event store, in the order they were."""
    rows = conn.execute(
        "SELECT originator_id FROM berth_events WHERE topic = %s ORDER BY notification_id",
        (get_topic(Facility.Registered),),
    ).fetchall()
    return [row[0] for row in rows]


def write(
    conn: Connection,
    facility_id: UUID,
    *,
    every: int = EVERY,
    through: int | None = None,
    progress: Progress | None = None,
) -> Written:
    """Replay the facility's books to the chain's head, checkpointing on the way (see above).

    With `through`, to that position instead, if the head is past it.
    """
    if every < 1:
        raise ValueError(f"checkpoints are at least 1 position apart, not {every}")
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise ValueError("write checkpoints on a connection outside a transaction (autocommit)")
    # Taken before the snapshot, so a run that waited sees what the one before wrote.
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        return _write(conn, facility_id, every, through, progress)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _write(
    conn: Connection,
    facility_id: UUID,
    every: int,
    through: int | None,
    progress: Progress | None,
) -> Written:
    added: list[int] = []
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = conn.execute("SELECT coalesce(max(position), 0) FROM event_chain").fetchone()
        head = int(row[0]) if row else 0
        head = head if through is None else min(head, through)
        start = ledger_checkpoints.restored(conn, facility_id, last_position=head, as_of=None)
        after, replay = (0, BooksReplay(facility_id)) if start is None else start
        replayed_from, events_before = after, replay.events

        def take(books: BooksReplay, position: int) -> None:
            link = ledger_checkpoints.chain_link(conn, position)
            assert link is not None  # the facility was registered at or below it
            checkpoint = ledger_checkpoints.Checkpoint.of(books, position, link, keep=False)
            if ledger_checkpoints.save(conn, facility_id, [checkpoint]):
                added.append(position)

        def before_each(books: BooksReplay, position: int) -> None:
            # No event replayed is past the grid's last multiple before this one: the
            # books now are the books there.
            grid = (position - 1) // every * every
            if books.known and grid > after and grid >= books.position:
                take(books, grid)

        replay_ledger(
            conn, replay, Cut(position=head), after=after, progress=progress,
            before_each=before_each,
        )  # fmt: skip
        if replay.known and head > after and head > max(added, default=0):
            take(replay, head)
    if progress is not None:
        progress(replay.events, replay.events)
    replayed = replay.events - events_before
    return Written(facility_id, replayed_from, head, replayed, tuple(added))
