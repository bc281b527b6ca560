"""Gates: the live feed of plate reads with their decisions and reasons, the unmatched
reads, and resolving one to a booking found by plate, reference or name (or dismissing it)."""

from __future__ import annotations

import heapq
from contextlib import closing
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.audit import audit_history
from berth.adapters.read_models import gate_queries
from berth.adapters.screen import queries as screen_queries
from berth.domain.command_context import CommandContext
from berth.domain.gate_commands import UnknownGate, UnknownRead
from berth.web import forms, staff
from berth.web.pages.common import place, with_position
from berth.web.reads import moved_since_seen, reading, signature
from berth.web.settings import PREFIX, Screen, ScreenSettings
from berth.web.templates import SharedPanels, render, see_other
from berth.web.views import booking_row

PROJECTIONS = ("occupancy",)
GATE_STAFF = frozenset({staff.OPERATIONS, staff.ADMIN})
MANUAL_OPENS_SHOWN = 10
OPENED_BY_HAND = "Gate.OpenedByHand"


def gates_panel(conn: Any, facility_id: UUID, seen: str) -> dict[str, Any]:
    return {
        "reads": screen_queries.recent_reads(conn, facility_id=facility_id),
        "unmatched": gate_queries.unmatched_reads(
            conn, facility_id=facility_id, include_resolved=False
        ),
        "seen": seen,
    }


MAX_READ_ID = 200


def _read_id(read_id: str) -> str:
    """A read id from the path: longer than any camera's is no read of ours."""
    if len(read_id) > MAX_READ_ID:
        raise UnknownRead("no plate read with so long an id")
    return read_id


def opened_by_hand(conn: Any, lanes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest barrier openings by hand at these gates, from their event histories."""
    latest: list[tuple[int, dict[str, Any]]] = []
    for lane in lanes:
        with closing(audit_history.iter_history(conn, lane["gate_id"])) as steps:
            for step in steps:
                if step.type == OPENED_BY_HAND:
                    entry = step.data | {"gate": lane["name"], "at": step.timestamp,
                                         "by": step.cause.get("principal", "?")}  # fmt: skip
                    heapq.heappush(latest, (step.position, entry))
                    if len(latest) > MANUAL_OPENS_SHOWN:
                        heapq.heappop(latest)
    return [entry for _, entry in sorted(latest, key=lambda pair: pair[0], reverse=True)]


class GatesResource:
    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        here = place(self.screen, facility_id)
        with reading(self.screen, self.settings, req, PROJECTIONS) as (conn, caught_up):
            panel = gates_panel(conn, facility_id, signature(conn, PROJECTIONS))
            lanes = screen_queries.gates(conn, facility_id=facility_id)
            manual = opened_by_hand(conn, lanes)
        render(
            req, resp, "gates.html", place=here, caught_up=caught_up, lanes=lanes, manual=manual,
            poll_seconds=self.settings.poll_seconds, **panel,
        )  # fmt: skip


class GatesLiveResource:
    roles = {"GET": staff.STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen
        self.settings = settings
        self.panels = SharedPanels()

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        here = place(self.screen, facility_id)
        seen = moved_since_seen(self.screen, req, resp, PROJECTIONS)
        if seen is None:
            return

        def context() -> dict[str, Any]:
            with self.screen.pool.connection() as conn:
                panel = gates_panel(conn, facility_id, seen)
            return panel | {"place": here, "poll_seconds": self.settings.poll_seconds}

        self.panels.render(req, resp, "gates_live.html", facility_id, seen=seen,
                           context=context)  # fmt: skip


class ResolveResource:
    """GET: the read and the bookings a search finds; POST: resolve it to one (or dismiss)."""

    roles = {"GET": GATE_STAFF, "POST": GATE_STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, read_id: str
    ) -> None:
        here = place(self.screen, facility_id)
        with self.screen.pool.connection() as conn:
            read = screen_queries.read(conn, facility_id=facility_id, read_id=_read_id(read_id))
            if read is None:
                raise UnknownRead(f"no plate read {read_id!r} at this facility")
            query = forms.load(forms.Search, {"q": req.get_param("q") or read["plate"]})
            rows, more = screen_queries.search_bookings(
                conn, text=query["q"], facility_id=facility_id
            )
        render(
            req, resp, "resolve.html", place=here, read=read, q=query["q"],
            bookings=[booking_row(r) for r in rows], more=more,
        )  # fmt: skip

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, read_id: str
    ) -> None:
        form = forms.load(forms.Resolve, req.context.form)
        result = self.screen.reservations.gates.resolve_read(
            facility_id=facility_id, read_id=_read_id(read_id), booking_id=form["booking_id"],
            note=form["note"], context=CommandContext(cause=staff.cause(req)),
        )  # fmt: skip
        see_other(resp, with_position(f"{PREFIX}/facilities/{facility_id}/gates", result.position))


class OpenBarrierResource:
    """POST: record that staff opened a gate's barrier by hand, with the reason."""

    roles = {"POST": GATE_STAFF}

    def __init__(self, screen: Screen, settings: ScreenSettings) -> None:
        self.screen = screen

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, facility_id: UUID, gate_id: UUID
    ) -> None:
        form = forms.load(forms.OpenBarrier, req.context.form)
        if self.screen.reservations.gates.gate(gate_id).facility_id != facility_id:
            raise UnknownGate(f"no gate {gate_id} at this facility")
        result = self.screen.reservations.gates.open_barrier(
            gate_id=gate_id,
            reason=form["reason"],
            plate=form["plate"],
            context=CommandContext(cause=staff.cause(req)),
        )
        see_other(resp, with_position(f"{PREFIX}/facilities/{facility_id}/gates", result.position))
