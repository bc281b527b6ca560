"""Helpers for the projection tests: a clock, a cause, runners, read-model snapshots, a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from berth.adapters.read_models import tables as read_models
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.workers import PROJECTIONS
from berth.workers.projection_runner import ProjectionRunner

START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)

# Each projection's tables and the columns that order them, from the map rebuilds use.
READ_MODELS = {
    name: {table: ", ".join(key) for table, key in tables.items()}
    for name, tables in read_models.TABLES.items()
}


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def cause(principal: str = "test") -> Cause:
    return Cause(principal=principal, channel="web", request_id="r", correlation_id="c")


def runner(
    url: str, app: Reservations, name: str, *, page_size: int = 5000
) -> ProjectionRunner[Any]:
    return ProjectionRunner(url, PROJECTIONS[name], app.mapper, page_size=page_size)


def catch_up(url: str, app: Reservations, *names: str, page_size: int = 5000) -> dict[str, int]:
    """Run each projection (all by default) until it has applied the whole log."""
    reached = {}
    with psycopg.connect(url) as conn:
        for name in names or tuple(PROJECTIONS):
            reached[name] = runner(url, app, name, page_size=page_size).catch_up(conn)
    return reached


def read_models(url: str, *names: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the projections' tables, in key order."""
    tables = {}
    with psycopg.connect(url) as conn:
        for name in names or tuple(READ_MODELS):
            for table, key in READ_MODELS[name].items():
                tables[table] = conn.execute(
                    f"SELECT * FROM {table} ORDER BY {key}".encode()
                ).fetchall()
    return tables


def rebuild(url: str, app: Reservations, *names: str) -> dict[str, list[tuple[Any, ...]]]:
    """Empty the projections' tables and positions, replay the whole log in one page, read back."""
    names = names or tuple(READ_MODELS)
    with psycopg.connect(url) as conn:
        for name in names:
            for table in READ_MODELS[name]:
                conn.execute(f"DELETE FROM {table}".encode())
            conn.execute("DELETE FROM projection_positions WHERE projection = %s", (name,))
        conn.commit()
    catch_up(url, app, *names, page_size=1_000_000)
    return read_models(url, *names)


def position(url: str, name: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT position FROM projection_positions WHERE projection = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def head(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM berth_events").fetchone()
    assert row is not None
    return int(row[0])
