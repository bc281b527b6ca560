"""The positions a projection passes over: `ProjectionSkip` events read back from the store.

Skips only accumulate, so a `Skips` keeps what it has read and, each time it is
asked, reads only the events stored since it last looked: a range of the
notification-id index, empty or a few rows while a runner is live, and nothing
while it catches up (the head hardly moves). The first look reads the whole
store once. No index of Berth's own is added to the event store. A runner asks
before every page, live or in a rebuild (whose `berth_events` is a view of the
store), so both pass over the same events.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from berth.domain.projection_skip import ProjectionSkip

SKIP_TOPIC = get_topic(ProjectionSkip.ProjectionEventSkipped)


class Skips:
    """The skipped positions of one projection, refreshed incrementally."""

    def __init__(self, projection: str, mapper: Mapper[UUID]) -> None:
        self.projection = projection
        self.mapper = mapper
        self._seen = 0  # every notification up to this one has been looked at
        self._positions: set[int] = set()

    def positions(self, conn: psycopg.Connection[Any]) -> frozenset[int]:
        """Every position skipped for this projection, as stored by now."""
        with conn.transaction():
            row = conn.execute(
                "SELECT COALESCE(MAX(notification_id), 0) FROM berth_events"
            ).fetchone()
            assert row is not None
            head = int(row[0])
            if head <= self._seen:
                return frozenset(self._positions)
            # Positions become visible in order (the library's table lock), so
            # nothing at or below `head` can appear later.
            rows = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM berth_events"
                " WHERE notification_id > %s AND notification_id <= %s AND topic = %s",
                (self._seen, head, SKIP_TOPIC),
            ).fetchall()
        for originator_id, version, topic, state in rows:
            event = self.mapper.to_domain_event(
                StoredEvent(
                    originator_id=originator_id,
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                )
            )
            if isinstance(event, ProjectionSkip.ProjectionEventSkipped) and (
                event.projection == self.projection
            ):
                self._positions.add(event.position)
        self._seen = head
        return frozenset(self._positions)
