"""Bookings: search by reference, plate or name; one booking with its history; the
commands staff give on it (check in or out, no-show, cancel after seeing the fee,
take a payment), each the same application command the API runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.audit import audit_history
from berth.adapters.read_models import queries
from berth.adapters.screen import queries as screen_queries
from berth.domain.booking_commands import UnknownBooking
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult
from berth.web import forms, staff
from berth.web.pages.common import next_page, place, with_position
from berth.web.reads import reading
from berth.web.settings import PREFIX, Screen, ScreenSettings
from berth.web.templates import render, see_other
from berth.web.views import booking_row

HISTORY_LIMIT = 200
DESK = frozenset({staff.OPERATIONS, staff.ADMIN})
TILL = frozenset({staff.OPERATIONS, staff.FINANCE, staff.ADMIN})


class SearchResource:
    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = forms.load(forms.Search, {"q": req.get_param("q") or ""})
        with self.screen.pool.connection() as conn:
            rows, more = screen_queries.search_bookings(conn, text=query["q"])
        render(
            req, resp, "bookings.html", q=query["q"], bookings=[booking_row(r) for r in rows],
            more=more, limit=screen_queries.MAX_RESULTS,
        )  # fmt: skip


class BookingResource:
    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        with reading(self.screen, self.settings, req, ("bookings",)) as (conn, caught_up):
            row = queries.booking(conn, booking_id)
            if row is None:
                raise UnknownBooking(f"no booking {booking_id}")
            page = audit_history.history_page(conn, booking_id, limit=HISTORY_LIMIT)
        render(
            req, resp, "booking.html", booking=booking_row(row), caught_up=caught_up,
            place=place(self.screen, row["facility_id"]),
            history=list(reversed(page.steps)), history_cut=page.next_cursor is not None,
            methods=forms.PAYMENT_METHODS,
        )  # fmt: skip


class CancelResource:
    """GET: the fee a cancellation would charge now, and the form to confirm it."""

    roles = {"GET": DESK, "POST": DESK}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen

    def on_get(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        booking = self.screen.reservations.bookings.booking(booking_id)
        with self.screen.pool.connection() as conn:
            row = queries.booking(conn, booking_id)
        render(
            req, resp, "cancel.html", booking=booking, row=booking_row(row) if row else None,
            place=place(self.screen, booking.facility_id),
            fee=booking.cancellation_fee_at(self.screen.clock()),
        )  # fmt: skip

    def on_post(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        form = forms.load(forms.Cancel, req.context.form)
        result = self.screen.reservations.bookings.cancel(
            booking_id=booking_id,
            reason=form["reason"],
            context=CommandContext(cause=staff.cause(req), expected_version=form["version"]),
        )
        see_other(resp, with_position(f"{PREFIX}/bookings/{booking_id}", result.position))


Command = Callable[[Screen, falcon.Request, UUID, dict[str, Any]], CommandResult]


def _plain(name: str) -> Command:
    def run(screen: Screen, req: falcon.Request, booking_id: UUID, form: dict[str, Any]) -> Any:
        command = getattr(screen.reservations.bookings, name)
        return command(
            booking_id=booking_id,
            context=CommandContext(cause=staff.cause(req), expected_version=form["version"]),
        )

    return run


def _pay(screen: Screen, req: falcon.Request, booking_id: UUID, form: dict[str, Any]) -> Any:
    booking = screen.reservations.bookings.booking(booking_id)
    return screen.reservations.bookings.record_payment(
        booking_id=booking_id,
        amount=form["amount"],
        currency=booking.currency,
        method=form["method"],
        context=CommandContext(cause=staff.cause(req), expected_version=form["version"]),
    )


def _amend(screen: Screen, req: falcon.Request, booking_id: UUID, form: dict[str, Any]) -> Any:
    """Amend what changed of the dates and plates (an amendment names only those)."""
    booking = screen.reservations.bookings.booking(booking_id)
    changes: dict[str, Any] = {
        name: form[name]
        for name, now in (("arrival", booking.arrival), ("departure", booking.departure))
        if form[name] != now
    }
    if list(form["plates"]) != list(booking.plates):
        changes["plates"] = form["plates"]
    return screen.reservations.bookings.amend(
        booking_id=booking_id,
        context=CommandContext(cause=staff.cause(req), expected_version=form["version"]),
        **changes,
    )


# name: (who may, the form, the command)
ACTIONS: dict[str, tuple[frozenset[str], type[forms.Form], Command]] = {
    "check-in": (DESK, forms.Versioned, _plain("check_in")),
    "check-out": (DESK, forms.Versioned, _plain("check_out")),
    "no-show": (DESK, forms.Versioned, _plain("record_no_show")),
    "payments": (TILL, forms.Payment, _pay),
    "amend": (DESK, forms.Amend, _amend),
}


class BookingActionResource:
    """POST /ops/bookings/{booking_id}/<action>, then back to the page it came from."""

    def __init__(self, screen: Screen, settings: ScreenSettings, action: str) -> None:
        self.screen = screen
        allowed, self.form, self.command = ACTIONS[action]
        self.roles = {"POST": allowed}

    def on_post(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        form = forms.load(self.form, req.context.form)
        result = self.command(self.screen, req, booking_id, form)
        back = next_page(req.context.form, f"{PREFIX}/bookings/{booking_id}")
        see_other(resp, with_position(back, result.position))
