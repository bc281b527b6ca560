"""Checkpoints of the auditors' replayed books, in `audit_ledger_checkpoints`.

Kept by facility, posting-rules digest and position; the state is the replay's
own (`berth.projections.ledger_checkpoint`), as zlib-compressed JSON, never
anything executable. A checkpoint at position p holds the books after every
ledger event up to p, and is written only by a replay that has read an event
past p in its snapshot (so, the store's inserts being serialised, every event
up to p was already visible).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from berth.projections import ledger_checkpoint
from berth.projections.ledger_replay import BooksReplay

Connection = psycopg.Connection[Any]


@dataclass(frozen=True)
class Checkpoint:
    position: int
    latest: datetime
    state: bytes

    @classmethod
    def of(cls, replay: BooksReplay, position: int) -> Checkpoint:
        assert replay.latest is not None
        data = json.dumps(ledger_checkpoint.state(replay), separators=(",", ":"))
        return cls(position, replay.latest, zlib.compress(data.encode(), 6))

    def restore(self) -> BooksReplay:
        return ledger_checkpoint.restore(json.loads(zlib.decompress(self.state)))


def nearest(
    conn: Connection, facility_id: UUID, *, last_position: int, as_of: datetime | None
) -> Checkpoint | None:
    """The latest checkpoint at or below the position and, with a time, not past it."""
    row = conn.execute(
        "SELECT position, latest, state FROM audit_ledger_checkpoints"
        " WHERE facility_id = %s AND rules = %s AND position <= %s"
        " AND (%s::timestamptz IS NULL OR latest <= %s::timestamptz)"
        " ORDER BY position DESC LIMIT 1",
        (facility_id, ledger_checkpoint.RULES, last_position, as_of, as_of),
    ).fetchone()
    return None if row is None else Checkpoint(int(row[0]), row[1], bytes(row[2]))


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
