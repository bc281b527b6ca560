"""An operator's two answers to a failed projection: skip the event, or retry it.

`skip` records a `ProjectionSkip` event (with the operator's cause) for a
projection and a position it has not yet passed; its runner, and any rebuild of
it, passes over that event from then on. `retry` deletes the recorded failure,
so the runner tries the event again at once rather than after its backoff.
"""

from __future__ import annotations

from typing import Any

import psycopg

from berth.adapters.tracking import projection_failures, projection_store
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.commanding import CommandResult
from berth.domain.error import DomainError, NotFound
from berth.projections import PROJECTION_NAMES

Connection = psycopg.Connection[Any]


class UnknownProjection(NotFound):
    code = "unknown-projection"


class UnknownPosition(NotFound):
    code = "unknown-position"


class AlreadyApplied(DomainError):
    code = "already-applied"


class NoFailure(NotFound):
    code = "no-failure"


def check_projection(projection: str) -> str:
    if projection not in PROJECTION_NAMES:
        raise UnknownProjection(
            f"no projection {projection!r}; there are {', '.join(sorted(PROJECTION_NAMES))}"
        )
    return projection


def skip(
    conn: Connection,
    app: Reservations,
    *,
    projection: str,
    position: int,
    reason: str,
    cause: Cause,
) -> CommandResult:
    """Record that `projection` passes over the event at `position`."""
    check_projection(projection)
    with conn.transaction():
        stored = conn.execute(
            "SELECT 1 FROM berth_events WHERE notification_id = %s", (position,)
        ).fetchone()
    if stored is None:
        raise UnknownPosition(f"no event is stored at position {position}")
    reached = projection_store.tracked_position(conn, projection)
    if reached >= position:
        raise AlreadyApplied(
            f"{projection} is at position {reached}: it applied the event at {position} already"
        )
    return app.skip_projection_event(
        projection=projection, position=position, reason=reason, cause=cause
    )


def retry(conn: Connection, *, projection: str, position: int) -> None:
    """Clear `projection`'s failure at `position`, so its runner tries again now."""
    check_projection(projection)
    if not projection_failures.clear(conn, projection=projection, position=position):
        raise NoFailure(f"{projection} has no failure recorded at position {position}")
