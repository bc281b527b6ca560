"""Read-your-writes: a query with `min_position` waits, boundedly, for its projections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import falcon

from berth.adapters.read_models import queries
from berth.http.problems import Problem

Connection = Any


def wait_for(
    conn: Connection,
    req: falcon.Request,
    *,
    projections: Sequence[str],
    timeout: float,
) -> None:
    """Return once the projections reached the query's `min_position`; 503 if they did not."""
    min_position = req.context.query.get("min_position")
    if min_position is None:
        return
    if not queries.wait_for_position(
        conn, projections=projections, min_position=min_position, timeout=timeout
    ):
        raise Problem(
            503,
            "projection-behind",
            "Projection behind",
            f"the {', '.join(projections)} read model has not reached position {min_position}"
            f" within {timeout:g} s; retry, or read without min_position",
            headers={"Retry-After": "1"},
            projections=list(projections),
            min_position=min_position,
        )
