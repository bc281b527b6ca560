"""The positions each projection passes over: `ProjectionSkip` events read back from the store.

Skips only ever accumulate, so a `Skips` keeps what it has read and asks the
store only for skip events stored since (an index probe: migration 0050 keeps a
partial index on their topic). A runner asks before every page, live or in a
rebuild (whose `berth_events` is a view of the store), so both pass over the
same events.
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
        self._seen = 0  # the notification id of the last skip event read
        self._positions: set[int] = set()

    def positions(self, conn: psycopg.Connection[Any]) -> frozenset[int]:
        """Every position skipped for this projection, as stored by now."""
        with conn.transaction():
            rows = conn.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM berth_events WHERE topic = %s AND notification_id > %s"
                " ORDER BY notification_id",
                (SKIP_TOPIC, self._seen),
                prepare=True,
            ).fetchall()
        for notification_id, originator_id, version, topic, state in rows:
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
            self._seen = int(notification_id)
        return frozenset(self._positions)
