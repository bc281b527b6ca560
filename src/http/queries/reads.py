"""The base of query resources: a pooled connection, the wait, and the caller."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import falcon

from berth.http.queries.consistency import wait_for
from berth.http.settings import Services, Settings


class Query:
    projections: Sequence[str] = ()

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.timeout = settings.consistency_timeout

    @contextmanager
    def consistent(self, req: falcon.Request) -> Iterator[Any]:
        """A read connection on which the projections have reached `min_position`."""
        with self.services.pool.connection() as conn:
            wait_for(conn, req, projections=self.projections, timeout=self.timeout)
            yield conn
