"""Checkpoints of the auditors' replayed books, in `audit_ledger_checkpoints`.

Kept by facility, posting-rules digest and position; the state is the replay's
own (`berth.projections.ledger_checkpoint`), as zlib-compressed JSON, never
anything executable. A checkpoint at position p holds the books after every
ledger event up to p, and is written only by a replay that has read an event
past p in its snapshot (so, the store's inserts being serialised, every event
up to p was already visible).

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
    latest: datetime
    state: bytes
    replay: BooksReplay | None = field(default=None, compare=False)  # the books, when at hand

    @classmethod
    def of(cls, replay: BooksReplay, position: int) -> Checkpoint:
        assert replay.latest is not None
        data = json.dumps(ledger_checkpoint.state(replay), separators=(",", ":"))
        return cls(position, replay.latest, zlib.compress(data.encode(), 6), replay.copy())


Key = tuple[str, int, str, UUID, str, int]  # server, port, database, facility, rules, position


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


def key(conn: Connection, facility_id: UUID, position: int) -> Key:
    """What a decoded checkpoint is kept under: its database, facility, rules and position."""
    info = conn.info
    return (info.host, info.port, info.dbname, facility_id, ledger_checkpoint.RULES, position)


def restored(
    conn: Connection, facility_id: UUID, *, last_position: int, as_of: datetime | None
) -> tuple[int, BooksReplay] | None:
    """The books at the latest checkpoint at or below the position and, with a time, not past it.

    The caller's own copy, with the checkpoint's position; its state is read
    from the table only when no decoded copy is kept.
    """
    row = conn.execute(
        "SELECT position FROM audit_ledger_checkpoints"
        " WHERE facility_id = %s AND rules = %s AND position <= %s"
        " AND (%s::timestamptz IS NULL OR latest <= %s::timestamptz)"
        " ORDER BY position DESC LIMIT 1",
        (facility_id, ledger_checkpoint.RULES, last_position, as_of, as_of),
    ).fetchone()
    if row is None:
        return None
    position = int(row[0])
    cached = key(conn, facility_id, position)
    replay = RESTORED.get(cached)
    if replay is None:
        state = conn.execute(
            "SELECT state FROM audit_ledger_checkpoints"
            " WHERE facility_id = %s AND rules = %s AND position = %s",
            (facility_id, ledger_checkpoint.RULES, position),
        ).fetchone()
        assert state is not None  # read in the same snapshot as the position
        decoded = ledger_checkpoint.restore(json.loads(zlib.decompress(bytes(state[0]))))
        RESTORED.put(cached, decoded)
        replay = decoded.copy()
    return position, replay


def save(conn: Connection, facility_id: UUID, checkpoints: list[Checkpoint]) -> None:
    """Store them (one already there, from a replay alongside, is the same and kept)."""
    if not checkpoints:
        return
    with conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO audit_ledger_checkpoints (facility_id, position, rules, latest, state)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [
                (facility_id, c.position, ledger_checkpoint.RULES, c.latest, c.state)
                for c in checkpoints
            ],
        )
    for c in checkpoints:
        if c.replay is not None:
            RESTORED.put(key(conn, facility_id, c.position), c.replay)
