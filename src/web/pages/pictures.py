"""Pictures: occupancy per night for the next 60 days per pool, revenue per day for the
last 60, as server-side SVG (no script). Read through the API's own queries."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import falcon

from berth.adapters.read_models import ledger_queries, queries
from berth.adapters.screen import queries as screen_queries
from berth.web import charts, staff
from berth.web.pages.common import place
from berth.web.settings import Screen, ScreenSettings
from berth.web.templates import render

DAYS = 60


class PicturesResource:
    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        here = place(self.screen, facility_id)
        first, last = here.today, here.today + timedelta(days=DAYS - 1)
        with self.screen.pool.connection() as conn:
            pools = screen_queries.pools(conn, facility_id=facility_id)
            occupancy = []
            for pool in pools:
                nights = queries.availability(
                    conn, pool_id=pool["pool_id"], first_night=first, last_night=last,
                    now=self.screen.clock(),
                )  # fmt: skip
                occupancy.append(charts.occupancy_chart(pool, nights or []))
            since = here.today - timedelta(days=DAYS - 1)
            revenue = ledger_queries.revenue(
                conn, facility_id=facility_id, first=since, last=here.today
            )
        currency = pools[0]["currency"] if pools else ""
        render(
            req, resp, "pictures.html", place=here, occupancy=occupancy,
            revenue=charts.revenue_chart(revenue, currency, since, here.today),
        )  # fmt: skip
