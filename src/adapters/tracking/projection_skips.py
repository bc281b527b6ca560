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
# One row per skip stored after the last look (or one of NULLs), each with the head.
_SINCE = (
    "SELECT h.head, e.originator_id, e.originator_version, e.topic, e.state"
    " FROM (SELECT COALESCE(MAX(notification_id), 0) AS head FROM berth_events) h"
    " LEFT JOIN berth_events e ON e.notification_id > %s"
    " AND e.notification_id <= h.head AND e.topic = %s"
)


class Skips:
    """The skipped positions of one projection, refreshed incrementally."""

    def __init__(self, projection: str, mapper: Mapper[UUID]) -> None:
        self.projection = projection
        self.mapper = mapper
        self._seen = 0  # every notification up to this one has been looked at
        self._positions: set[int] = set()

    def positions(self, conn: psycopg.Connection[Any]) -> frozenset[int]:
        """Every position skipped for this projection, as stored by now.

        One statement, in the caller's transaction (a runner's page): the head of
        the store and the skips stored since the last look, up to it.
        """
        found = conn.execute(_SINCE, (self._seen, SKIP_TOPIC), prepare=True).fetchall()
        # Positions become visible in order (the library's table lock), so
        # nothing at or below the head can appear later.
        head = int(found[0][0])
        rows = [row[1:] for row in found if row[1] is not None]
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
        self._seen = max(head, self._seen)
        return frozenset(self._positions)
