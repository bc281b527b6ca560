"""Rebuild a projection from position zero while its live runner keeps serving; swap or compare.

Both start the same way, under a per-projection lock (`shadow_tables.RebuildLock`):
fresh copies of the projection's tables in `berth_rebuild_<name>`, filled by the
projection's own runner, fold and writer on a connection that sees only that
schema, page by page with the shadow's own position row (so each page is applied
exactly once there too).

`rebuild` catches up to the head without holding anything live, then, in one
transaction on a second connection: locks the live position row (the live
runner's next commit waits on it), lets the shadow apply what is left up to the
head, drops the live tables, moves the rebuilt ones into `public`, sets the live
position to the rebuilt one and commits. The live runner's waiting page then
finds the position moved (`PositionMoved`), writes nothing, and carries on from
the new position on the new tables. Events after that position were applied to
neither table set, events up to it were applied once, to the tables now live.

`check` never lets the shadow pass the live position: it chases it, then locks
the live row, brings the shadow to exactly that position, compares every table
row by row while the live projection is held still, releases it and drops the
shadow. It also reports a live projection that is stuck: one with a recorded
failure (`projection_failures`), or whose oldest unapplied event is older than
`stuck_after` seconds; such a check is not "same", whatever the rows say.

Both pass over the positions an operator skipped, as the live runner does. An
event neither can apply fails the rebuild with a `RebuildError` naming its
position (everything is dropped, nothing live changed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper

from berth import config
from berth.adapters.read_models import queries
from berth.adapters.read_models import tables as read_models
from berth.adapters.tracking import projection_failures, projection_store, shadow_tables
from berth.adapters.tracking.shadow_tables import RebuildError, RebuildRunning, TableDifference
from berth.workers.projection_runner import ApplyFailed, Projection, ProjectionRunner

__all__ = ["Checked", "RebuildError", "RebuildRunning", "Rebuilt", "check", "rebuild"]

Progress = Callable[[int, int], None]  # (position reached, position aimed at)
SWAP_ATTEMPTS = 3
LOCK_TIMEOUT = "5s"  # per attempt, for the live position row and the live tables
# A check reports a live projection as stuck when its oldest unapplied event is
# older than this many seconds (the same setting makes GET /health/projections red).
MAX_LAG_VAR = config.variable("projection_max_lag_seconds")
STUCK_AFTER = 300.0


@dataclass
class Rebuilt:
    projection: str
    position: int
    notifications: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "projection": self.projection,
            "swapped": True,
            "position": self.position,
            "notifications": self.notifications,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Checked:
    projection: str
    position: int
    differences: list[TableDifference] = field(default_factory=list)
    failure: projection_failures.Failure | None = None
    stuck: str | None = None  # why the live projection is stuck without a recorded failure

    @property
    def same(self) -> bool:
        """The rows match a rebuild and the live projection is neither failed nor stuck."""
        return not self.differences and self.failure is None and self.stuck is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "projection": self.projection,
            "position": self.position,
            "same": self.same,
            "differences": [d.as_dict() for d in self.differences],
            "failure": None if self.failure is None else self.failure.as_dict(),
            "stuck": self.stuck,
        }

    def summary(self) -> str:
        problems = []
        if self.failure is not None:
            problems.append(f"failed: {self.failure.summary()}")
        elif self.stuck is not None:
            problems.append(f"stuck: {self.stuck}")
        if self.differences:
            problems.append(
                f"differs from a rebuild at position {self.position}: "
                + "; ".join(d.summary() for d in self.differences)
            )
        return f"{self.projection} " + "; ".join(problems)


class _Shadow:
    """The projection's runner, applying pages to the rebuild schema."""

    def __init__(
        self,
        url: str,
        projection: Projection[Any],
        mapper: Mapper[UUID],
        *,
        page_size: int,
        progress: Progress | None,
    ) -> None:
        self.runner = ProjectionRunner(url, projection, mapper, page_size=page_size)
        self.name = projection.name
        self.progress = progress
        self.position = 0
        self.notifications = 0
        self.conn = psycopg.connect(url, application_name=f"berth-rebuild:{self.name}")
        shadow_tables.use(self.conn, self.name)

    def advance(self, *, until: int | None, aim: int, to_the_end: bool) -> None:
        """Apply pages (up to `until`) until one is short, or, `to_the_end`, empty."""
        while True:
            try:
                result = self.runner.advance(self.conn, self.position, until=until)
            except ApplyFailed as failed:
                raise RebuildError(
                    f"{failed} (skip it with `berth projection skip {self.name} {failed.position}`)"
                ) from None
            self.position = result.position
            self.notifications += result.notifications
            if self.progress is not None:
                self.progress(self.position, max(aim, self.position))
            if result.notifications == 0 or (
                not to_the_end and result.notifications < self.runner.page_size
            ):
                return

    def close(self) -> None:
        self.conn.close()


def rebuild(
    url: str,
    projection: Projection[Any],
    mapper: Mapper[UUID],
    *,
    page_size: int = 5000,
    progress: Progress | None = None,
) -> Rebuilt:
    """Replay the projection from zero into fresh tables and swap them in. See the module doc."""
    name, tables = projection.name, read_models.TABLES[projection.name]
    began = time.perf_counter()
    # `live` is autocommit, so each `transaction()` below is a real BEGIN ... COMMIT.
    with (
        shadow_tables.RebuildLock(url, name),
        psycopg.connect(
            url, autocommit=True, application_name=f"berth-rebuild-swap:{name}"
        ) as live,
    ):
        shadow_tables.create(live, name, tables)
        shadow = _Shadow(url, projection, mapper, page_size=page_size, progress=progress)
        try:
            shadow.advance(until=None, aim=_head(live), to_the_end=False)
            shadow_tables.analyze(live, name, tables)
            for _ in range(SWAP_ATTEMPTS):
                try:
                    with live.transaction():
                        live.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                        held = shadow_tables.lock_live_position(live, name)
                        shadow.advance(until=None, aim=_head(live), to_the_end=True)
                        if shadow.position < held:
                            raise RebuildError(
                                f"{name}: the rebuild reached {shadow.position},"
                                f" behind the live position {held}"
                            )
                        position = shadow_tables.swap(live, name, tables)
                    break
                except psycopg.errors.LockNotAvailable:
                    continue
            else:
                raise RebuildError(
                    f"{name}: could not lock the live tables to swap them"
                    f" ({SWAP_ATTEMPTS} tries of {LOCK_TIMEOUT}); a long transaction holds them"
                )
        finally:
            shadow.close()
            shadow_tables.drop(live, name)
    return Rebuilt(name, position, shadow.notifications, time.perf_counter() - began)


def check(
    url: str,
    projection: Projection[Any],
    mapper: Mapper[UUID],
    *,
    page_size: int = 5000,
    progress: Progress | None = None,
    samples: int = 3,
    stuck_after: float | None = None,
) -> Checked:
    """Rebuild the projection aside to the live position and compare. See the module doc."""
    name, tables = projection.name, read_models.TABLES[projection.name]
    with (
        shadow_tables.RebuildLock(url, name),
        psycopg.connect(
            url, autocommit=True, application_name=f"berth-rebuild-check:{name}"
        ) as live,
    ):
        shadow_tables.create(live, name, tables)
        shadow = _Shadow(url, projection, mapper, page_size=page_size, progress=progress)
        try:
            while True:  # chase the live position without holding it
                target = projection_store.tracked_position(live, name)
                shadow.advance(until=target, aim=target, to_the_end=False)
                if projection_store.tracked_position(live, name) - shadow.position <= page_size:
                    break
            with live.transaction():
                live.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                held = shadow_tables.lock_live_position(live, name)
                if held < shadow.position:
                    raise RebuildError(
                        f"{name}: the live position went back to {held},"
                        f" behind the rebuild's {shadow.position}"
                    )
                shadow.advance(until=held, aim=held, to_the_end=True)
                differences = shadow_tables.compare(live, name, tables, samples=samples)
            failure = projection_failures.current(live, name)
            if stuck_after is None:
                stuck_after = config.load().projection_max_lag_seconds
            stuck = None if failure is not None else _stuck(live, name, stuck_after)
        finally:
            shadow.close()
            shadow_tables.drop(live, name)
    return Checked(name, held, differences, failure, stuck)


def _stuck(conn: psycopg.Connection[Any], name: str, after: float) -> str | None:
    for status in queries.projection_status(conn):
        if status["projection"] == name and status["lag_seconds"] > after:
            return (
                f"at position {status['position']} of {status['head']}, its oldest unapplied"
                f" event {status['lag_seconds']:.0f} s old (is its worker running?)"
            )
    return None


def _head(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM berth_events").fetchone()
    assert row is not None
    return int(row[0])
