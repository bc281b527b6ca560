"""The positions a projection passes over: `ProjectionSkip` events looked up in the store.

A skip's aggregate id is derived from the projection's name and the position
(`skip_id`), so whether any of a page's positions is skipped is one query that
probes the event store's primary key for those ids: no index of our own on the
store, nothing cached to go stale. A runner asks before every page, live or in a
rebuild (whose `berth_events` is a view of the store), so both pass over the
same events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from berth.domain.projection_skip import skip_id


def skipped(conn: psycopg.Connection[Any], projection: str, positions: Iterable[int]) -> set[int]:
    """Which of `positions` an operator has skipped for `projection`."""
    ids = {skip_id(projection=projection, position=p): p for p in positions}
    if not ids:
        return set()
    with conn.transaction():
        rows = conn.execute(
            "SELECT originator_id FROM berth_events"
            " WHERE originator_id = ANY(%s) AND originator_version = 1",
            (list(ids),),
            prepare=True,
        ).fetchall()
    return {ids[originator_id] for (originator_id,) in rows}
