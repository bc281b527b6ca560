"""A page's read connection: waiting, boundedly, for the write that led to the page.

A command answers with the position of its last event; the screen redirects to
the page it changed with `min_position`, and the page waits until its read models
reached it (the API's `berth.adapters.read_models.queries.wait_for_position`). If they did
not in time the page is shown anyway, saying it may be behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import falcon

from berth.adapters.read_models import queries
from berth.web.settings import Screen, ScreenSettings

MAX_POSITION = 2**62


def min_position(req: falcon.Request) -> int | None:
    text = req.get_param("min_position")
    if text is None or not text.isdigit() or len(text) > 19:
        return None
    return min(int(text), MAX_POSITION)


@contextmanager
def reading(
    screen: Screen, settings: ScreenSettings, req: falcon.Request, projections: Sequence[str]
) -> Iterator[tuple[Any, bool]]:
    """A pooled connection, and whether the projections caught up with `min_position`."""
    wanted = min_position(req)
    with screen.pool.connection() as conn:
        caught_up = wanted is None or queries.wait_for_position(
            conn,
            projections=projections,
            min_position=wanted,
            timeout=settings.consistency_timeout,
        )
        yield conn, caught_up


def signature(conn: Any, projections: Sequence[str]) -> str:
    """What a live panel has seen: its projections' positions (unchanged: nothing new)."""
    found = queries.positions(conn, list(projections))
    return ".".join(str(found.get(name, 0)) for name in projections)


def moved_since_seen(
    screen: Screen, req: falcon.Request, resp: falcon.Response, projections: Sequence[str]
) -> str | None:
    """A live panel's poll: its projections' positions now, or None once it has answered
    204 because they are the `seen` the screen already shows."""
    with screen.pool.connection() as conn:
        seen = signature(conn, projections)
    if req.get_param("seen") == seen:
        resp.status = falcon.HTTP_204
        return None
    return seen
