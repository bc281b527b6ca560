"""Where a projection is stuck: the event it could not apply, recorded durably.

One row per failed projection (migration 0050): the position of the event, the
error's class and message, when it was first and last seen and how many times
it was tried. The runner records each failed attempt and deletes the row once
past the event; `retry` deletes it on an operator's word and wakes the runners.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from berth.adapters.postgres.event_wakeups import EVENTS_CHANNEL

Connection = psycopg.Connection[Any]
MAX_MESSAGE = 2000  # characters of the error message kept


@dataclass(frozen=True)
class Failure:
    projection: str
    position: int
    error_class: str
    error_message: str
    first_seen: datetime
    last_seen: datetime
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "error_class": self.error_class,
            "error_message": self.error_message,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "attempts": self.attempts,
        }

    def summary(self) -> str:
        return (
            f"{self.projection} cannot apply the event at position {self.position}:"
            f" {self.error_class}: {self.error_message}"
            f" ({self.attempts} attempts since {self.first_seen.isoformat()})"
        )


def describe(error: BaseException) -> tuple[str, str]:
    """An error's class and the first line of its message, without NULs or surrogates, bounded."""
    cls = type(error)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    lines = str(error).strip().splitlines()
    first = (lines[0] if lines else "").replace("\x00", "\\x00")
    # A lone surrogate could not be stored either: the failure must always be recordable.
    message = first.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_MESSAGE]
    return name, message


_COLUMNS = "projection, position, error_class, error_message, first_seen, last_seen, attempts"


def record(conn: Connection, *, projection: str, position: int, error: BaseException) -> Failure:
    """Record one failed attempt at `position` (a new failure if it was stuck elsewhere)."""
    error_class, message = describe(error)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO projection_failures AS f"
            " (projection, position, error_class, error_message)"
            " VALUES (%(p)s, %(pos)s, %(cls)s, %(msg)s)"
            " ON CONFLICT (projection) DO UPDATE SET"
            "   error_class = EXCLUDED.error_class, error_message = EXCLUDED.error_message,"
            "   last_seen = now(),"
            "   first_seen = CASE WHEN f.position = EXCLUDED.position"
            "                     THEN f.first_seen ELSE now() END,"
            "   attempts = CASE WHEN f.position = EXCLUDED.position THEN f.attempts + 1 ELSE 1 END,"
            "   position = EXCLUDED.position"
            f" RETURNING {_COLUMNS}",
            {"p": projection, "pos": position, "cls": error_class, "msg": message},
        ).fetchone()
    assert row is not None
    return Failure(*row)


def current(conn: Connection, projection: str) -> Failure | None:
    with conn.transaction():
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM projection_failures WHERE projection = %s",
            (projection,),
        ).fetchone()
    return Failure(*row) if row else None


def every(conn: Connection) -> dict[str, Failure]:
    with conn.transaction():
        rows = conn.execute(f"SELECT {_COLUMNS} FROM projection_failures").fetchall()
    return {row[0]: Failure(*row) for row in rows}


def clear(conn: Connection, *, projection: str, position: int | None = None) -> bool:
    """Delete the failure (only if at `position`, when given); whether there was one.

    Wakes the runners (they wait on the event store's channel), so the one
    stuck tries again at once.
    """
    with conn.transaction():
        deleted = conn.execute(
            "DELETE FROM projection_failures WHERE projection = %s"
            " AND (%s::bigint IS NULL OR position = %s)",
            (projection, position, position),
        ).rowcount
        if deleted:
            conn.execute("SELECT pg_notify(%s, %s)", (EVENTS_CHANNEL, f"retry:{projection}"))
    return bool(deleted)
