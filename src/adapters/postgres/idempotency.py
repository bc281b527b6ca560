"""Idempotency records: the first answer to a command sent with an Idempotency-Key.

The record is inserted by the event store's recorder in the command's own
transaction (see `berth.adapters.postgres.eventstore.IdempotencyRecord`), carrying a
placeholder body, the command's position and its subject's id and version; the
full answer replaces the placeholder right after the commit. Should that never
happen (the process died in between), the subject at that version, read from
the event store, and the position rebuild the same answer. A
PostgreSQL advisory lock on (API key, Idempotency-Key), held around lookup,
command and completion, makes a concurrent retry wait for nothing: it is told
the first request is still in flight.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

Connection = psycopg.Connection[Any]

# Marks a body written in the command's transaction and not yet replaced by the answer.
PLACEHOLDER = "_placeholder"


@dataclass(frozen=True, kw_only=True)
class StoredAnswer:
    request_hash: str
    status: int
    body: dict[str, Any]
    position: int | None
    subject_id: UUID | None = None
    subject_version: int | None = None

    @property
    def complete(self) -> bool:
        return PLACEHOLDER not in self.body


def lock_keys(key_id: str, idempotency_key: str) -> tuple[int, int]:
    """Two signed 32-bit keys for the two-argument form of pg_try_advisory_lock.

    The two-argument form has its own key space, apart from the night locks'.
    """
    digest = hashlib.sha256(f"{key_id}\0{idempotency_key}".encode()).digest()
    return (
        int.from_bytes(digest[:4], "big", signed=True),
        int.from_bytes(digest[4:8], "big", signed=True),
    )


@contextmanager
def claim(conn: Connection, key_id: str, idempotency_key: str) -> Iterator[bool]:
    """Try to take the key's advisory lock on `conn` (autocommit); yield whether it was."""
    keys = lock_keys(key_id, idempotency_key)
    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", keys).fetchone()
    taken = bool(row and row[0])
    try:
        yield taken
    finally:
        if taken:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", keys)
            except psycopg.OperationalError:
                conn.close()  # the session is gone, and the lock with it


def lookup(
    conn: Connection, key_id: str, idempotency_key: str, *, keep: timedelta
) -> StoredAnswer | None:
    """The stored answer for the key, forgetting it first if it is older than `keep`."""
    conn.execute(
        "DELETE FROM idempotency_keys WHERE key_id = %s AND idempotency_key = %s"
        " AND created_at < now() - %s",
        (key_id, idempotency_key, keep),
    )
    row = conn.execute(
        "SELECT request_hash, status, body, position, subject_id, subject_version"
        " FROM idempotency_keys WHERE key_id = %s AND idempotency_key = %s",
        (key_id, idempotency_key),
    ).fetchone()
    if row is None:
        return None
    request_hash, status, body, position, subject_id, subject_version = row
    return StoredAnswer(
        request_hash=request_hash,
        status=status,
        body=body,
        position=position,
        subject_id=subject_id,
        subject_version=subject_version,
    )


def complete(conn: Connection, key_id: str, idempotency_key: str, body: dict[str, Any]) -> None:
    """Replace the placeholder body with the full answer."""
    conn.execute(
        "UPDATE idempotency_keys SET body = %s WHERE key_id = %s AND idempotency_key = %s",
        (Jsonb(body), key_id, idempotency_key),
    )


def forget_older_than(conn: Connection, age: timedelta, *, limit: int = 1000) -> int:
    """Delete up to `limit` records older than `age`; the number deleted."""
    deleted = conn.execute(
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys"
        " WHERE created_at < now() - %s LIMIT %s)",
        (age, limit),
    )
    return deleted.rowcount


def store(
    conn: Connection,
    *,
    key_id: str,
    idempotency_key: str,
    request_hash: str,
    status: int,
    body: dict[str, Any],
    position: int,
    subject_id: UUID,
    subject_version: int,
) -> None:
    """Insert a record after the command's commit, for commands whose save takes none."""
    conn.execute(
        "INSERT INTO idempotency_keys (key_id, idempotency_key, request_hash, status, body,"
        " position, subject_id, subject_version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            key_id,
            idempotency_key,
            request_hash,
            status,
            Jsonb(body),
            position,
            subject_id,
            subject_version,
        ),
    )
