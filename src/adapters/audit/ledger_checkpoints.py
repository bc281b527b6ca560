"""Checkpoints of the auditors' replayed books, in `audit_ledger_checkpoints`.

Kept by facility, posting-rules digest and position; the state is the replay's
own (`berth.projections.ledger_checkpoint`), as zlib-compressed JSON, never
anything executable. A checkpoint at position p holds the books after every
ledger event up to p, and is written only by `berth audit checkpoint`
(`berth.adapters.audit.checkpoint_writer`, as the owner: the application role
may only read them, migration 0195) from a snapshot holding every event up to p.

Each row names the hash chain's link at its position (`chain_link`: the link
of the last event at or below p, which commits to every event up to there),
and `restored` uses a checkpoint only if that is the link at p in the store it
reads: one summarising any other history is passed over, whoever wrote it.

Decoding one costs far more than the replay after it, so the last few decoded
(or written) are kept in this process (`RESTORED`, at most `CACHED` of them
and `CACHED_ROWS` bookings and entries in all) and every replay starts from its own `copy()` of one:
nothing a replay does reaches the kept state. A row is never changed once
written, so what is kept stays what the row holds.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from berth.projections import ledger_checkpoint
from berth.projections.ledger_replay import BooksReplay

Connection = psycopg.Connection[Any]
# Decoded checkpoints kept per process, each one facility's books at a position: at most
# this many, holding at most CACHED_ROWS bookings and entries in all (about 0.85 kB each
# in memory: some 85 MB at most).
CACHED = 16
CACHED_ROWS = 100_000


@dataclass(frozen=True)
class Checkpoint:
    position: int
    link: bytes  # the chain's link at `position` (`chain_link`)
    latest: datetime
    state: bytes
    replay: BooksReplay | None = field(default=None, compare=False)  # the books, when at hand

    @classmethod
    def of(
        cls, replay: BooksReplay, position: int, link: bytes, *, keep: bool = True
    ) -> Checkpoint:
        """The replay's books now, as at `position`; with `keep`, also a copy to keep decoded."""
        assert replay.latest is not None
        data = json.dumps(ledger_checkpoint.state(replay), separators=(",", ":"))
        state = zlib.compress(data.encode(), 6)
        return cls(position, link, replay.latest, state, replay.copy() if keep else None)


# server, port, database, facility, rules, position, chain link
Key = tuple[str, int, str, UUID, str, int, bytes]


def _rows(replay: BooksReplay) -> int:
    return len(replay.books.bookings) + len(replay.books.entries)


class Restored:
    """The most recently used decoded checkpoints, handed out as copies.

    At most `size` of them and `rows` bookings and entries in all (the least
    recently used go first; one larger than `rows` alone is not kept).
    """

    def __init__(self, size: int, rows: int) -> None:
        self.size, self.rows = size, rows
        self._kept: OrderedDict[Key, BooksReplay] = OrderedDict()
        self._held = 0  # rows of the replays kept
        self._lock = threading.Lock()

    def get(self, key: Key) -> BooksReplay | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        return None if kept is None else kept.copy()

    def put(self, key: Key, replay: BooksReplay) -> None:
        """Keep `replay`, which its caller must never change again."""
        with self._lock:
            old = self._kept.pop(key, None)
            self._held -= 0 if old is None else _rows(old)
            self._kept[key] = replay
            self._held += _rows(replay)
            while self._kept and (len(self._kept) > self.size or self._held > self.rows):
                self._held -= _rows(self._kept.popitem(last=False)[1])

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._held = 0


RESTORED = Restored(CACHED, CACHED_ROWS)


def key(conn: Connection, facility_id: UUID, position: int, link: bytes) -> Key:
    """What a decoded checkpoint is kept under: its database, facility, rules, position, link."""
    info = conn.info
    return (
        info.host, info.port, info.dbname, facility_id, ledger_checkpoint.RULES, position, link
    )  # fmt: skip


# The link of the last chained event at or below a position (none: no event there yet).
_CHAIN_LINK = (
    "SELECT e.link FROM event_chain e WHERE e.position <= {at} ORDER BY e.position DESC LIMIT 1"
)


def chain_link(conn: Connection, position: int) -> bytes | None:
    """The hash chain's link at `position`: the last event's at or below it, if any."""
    row = conn.execute(_CHAIN_LINK.format(at="%s"), (position,)).fetchone()
    return None if row is None else bytes(row[0])


def restored(
    conn: Connection, facility_id: UUID, *, last_position: int, as_of: datetime | None
) -> tuple[int, BooksReplay] | None:
    """The books at the latest checkpoint at or below the position and, with a time, not past it.

    Only a checkpoint whose link is the chain's link at its position in this
    store counts (others are passed over, as if absent). The caller's own copy,
    with the checkpoint's position; its state is read from the table only when
    no decoded copy is kept.
    """
    row = conn.execute(
        "SELECT c.position, c.link FROM audit_ledger_checkpoints c"
        " WHERE c.facility_id = %s AND c.rules = %s AND c.position <= %s"
        " AND (%s::timestamptz IS NULL OR c.latest <= %s::timestamptz)"
        f" AND c.link = ({_CHAIN_LINK.format(at='c.position')})"
        " ORDER BY c.position DESC LIMIT 1",
        (facility_id, ledger_checkpoint.RULES, last_position, as_of, as_of),
    ).fetchone()
    if row is None:
        return None
    position, link = int(row[0]), bytes(row[1])
    cached = key(conn, facility_id, position, link)
    replay = RESTORED.get(cached)
    if replay is None:
        state = conn.execute(
            "SELECT state FROM audit_ledger_checkpoints"
            " WHERE facility_id = %s AND rules = %s AND position = %s AND link = %s",
            (facility_id, ledger_checkpoint.RULES, position, link),
        ).fetchone()
        assert state is not None  # read in the same snapshot as the position
        decoded = ledger_checkpoint.restore(json.loads(zlib.decompress(bytes(state[0]))))
        RESTORED.put(cached, decoded)
        replay = decoded.copy()
    return position, replay


def save(conn: Connection, facility_id: UUID, checkpoints: list[Checkpoint]) -> int:
    """Store them (one already there, from a run alongside, is kept); how many were new.

    Needs the right to insert, which only the owner has (migration 0195).
    """
    if not checkpoints:
        return 0
    added = 0
    with conn.transaction(), conn.cursor() as cursor:
        for c in checkpoints:
            cursor.execute(
                "INSERT INTO audit_ledger_checkpoints"
                " (facility_id, position, rules, latest, state, link)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (facility_id, c.position, ledger_checkpoint.RULES, c.latest, c.state, c.link),
            )
            added += cursor.rowcount
    for c in checkpoints:
        if c.replay is not None:
            RESTORED.put(key(conn, facility_id, c.position, c.link), c.replay)
    return added
