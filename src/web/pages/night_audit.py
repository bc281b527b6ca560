"""Night audit: preview what closing a day recognises, close it, and revenue per day.

The preview is an estimate from the bookings read model, made by the ledger's
own rule (`berth.domain.recognition`): a night earns its price as sold times the
quantity, the stay's last night the remainder of the total; a booking without a
nightly breakdown earns total * k // n after its k-th of n nights (days are
closed in order, so the nights before the one closed are taken as closed). The
ledger's own postings, once the day is closed, are the revenue per day below
(`berth.adapters.read_models.ledger_queries.revenue`, as GET /ledger/revenue).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.read_models import ledger_queries
from berth.adapters.screen import queries as screen_queries
from berth.domain import recognition
from berth.domain.command_context import CommandContext
from berth.web import forms, staff
from berth.web.pages.common import day_param, place, with_position
from berth.web.reads import reading
from berth.web.settings import PREFIX, Screen, ScreenSettings
from berth.web.templates import render, see_other
from berth.web.views import guest_name

CLOSERS = frozenset({staff.OPERATIONS, staff.ADMIN})
REVENUE_DAYS = 14


def night_share(row: dict[str, Any], night: date) -> int:
    """What closing `night` recognises of the booking's total (tax included)."""
    return recognition.night_share(
        total=row["total"],
        nights=(row["departure"] - row["arrival"]).days,
        night=(night - row["arrival"]).days,
        night_prices=row.get("night_prices"),
        quantity=row.get("quantity", 1),
    )


def preview(conn: Any, facility_id: UUID, night: date) -> dict[str, Any]:
    rows, more = screen_queries.in_house(conn, facility_id=facility_id, night=night)
    lines = [
        row | {"guest_name": guest_name(row["guest"]), "share": night_share(row, night)}
        for row in rows
    ]
    totals: dict[str, int] = {}
    for line in lines:
        totals[line["currency"]] = totals.get(line["currency"], 0) + line["share"]
    return {"lines": lines, "more": more, "totals": sorted(totals.items())}


class NightAuditResource:
    roles = {"GET": staff.STAFF, "POST": CLOSERS}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        here = place(self.screen, facility_id)
        night = day_param(req, "date", here.today - timedelta(days=1))
        with reading(self.screen, self.settings, req, ("bookings", "ledger")) as (conn, caught):
            closed = screen_queries.closed_days(conn, facility_id=facility_id)
            revenue = ledger_queries.revenue(
                conn, facility_id=facility_id, first=here.today - timedelta(days=REVENUE_DAYS),
                last=here.today,
            )  # fmt: skip
            planned = preview(conn, facility_id, night)
        render(
            req, resp, "night_audit.html", place=here, night=night, caught_up=caught,
            closed=closed, is_closed=night in closed, revenue=list(reversed(revenue)),
            over=night < here.today, **planned,
        )  # fmt: skip

    def on_post(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        form = forms.load(forms.CloseDay, req.context.form)
        result = self.screen.reservations.finance.close_day(
            facility_id=facility_id,
            business_date=form["business_date"],
            context=CommandContext(cause=staff.cause(req)),
        )
        page = f"{PREFIX}/facilities/{facility_id}/night-audit?date={form['business_date']}"
        see_other(resp, with_position(page, result.position))
