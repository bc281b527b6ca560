"""Today at a facility: arrivals, departures, vehicles on site, overstays, the latest reads.

The live panel polls `.../today/live` every few seconds with what it has seen
(the positions of the bookings and occupancy projections); unchanged, the answer
is 204 and htmx leaves the panel as it is. Without JavaScript the page is the
same, reloaded by hand.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.read_models import gate_queries, queries
from berth.adapters.screen import queries as screen_queries
from berth.web import staff
from berth.web.pages.common import day_param, place
from berth.web.reads import moved_since_seen, reading, signature
from berth.web.settings import PREFIX, Screen, ScreenSettings
from berth.web.templates import SharedPanels, render, see_other
from berth.web.views import booking_row

PROJECTIONS = ("bookings", "occupancy")
LATEST_READS = 10


def today_panel(conn: Any, facility_id: UUID, day: date, seen: str) -> dict[str, Any]:
    return {
        "arrivals": [
            booking_row(r) for r in queries.arrivals(conn, facility_id=facility_id, day=day)
        ],
        "departures": [
            booking_row(r) for r in queries.departures(conn, facility_id=facility_id, day=day)
        ],
        "occupancy": gate_queries.occupancy(conn, facility_id=facility_id),
        "reads": screen_queries.recent_reads(conn, facility_id=facility_id, limit=LATEST_READS),
        "seen": seen,
    }


class HomeResource:
    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self.screen.pool.connection() as conn:
            ids = screen_queries.facilities(conn)
        if len(ids) == 1:
            see_other(resp, f"{PREFIX}/facilities/{ids[0]}/today")
            return
        places = [place(self.screen, facility_id) for facility_id in ids]
        render(req, resp, "home.html", places=places)


class TodayResource:
    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        here = place(self.screen, facility_id)
        day = day_param(req, "date", here.today)
        with reading(self.screen, self.settings, req, PROJECTIONS) as (conn, caught_up):
            panel = today_panel(conn, facility_id, day, signature(conn, PROJECTIONS))
        render(
            req, resp, "today.html", place=here, day=day, caught_up=caught_up,
            poll_seconds=self.settings.poll_seconds, **panel,
        )  # fmt: skip


class TodayLiveResource:
    """The live panel alone: 204 when nothing changed since `seen`."""

    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings
        self.panels = SharedPanels()

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        here = place(self.screen, facility_id)
        day = day_param(req, "date", here.today)
        seen = moved_since_seen(self.screen, req, resp, PROJECTIONS)
        if seen is None:
            return

        def context() -> dict[str, Any]:
            # A connection of its own, taken only by the one render: the screens that
            # wait for that render hold none.
            with self.screen.pool.connection() as conn:
                panel = today_panel(conn, facility_id, day, seen)
            return panel | {"place": here, "day": day, "poll_seconds": self.settings.poll_seconds}

        self.panels.render(req, resp, "today_live.html", (facility_id, day), seen=seen,
                           context=context)  # fmt: skip
