"""GET /bookings/{booking_id}, GET /bookings, and a facility's arrivals and departures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

import falcon

from berth.adapters.read_models import queries
from berth.domain.booking_commands import UnknownBooking
from berth.domain.catalog_commands import UnknownFacility
from berth.http import paging
from berth.http.auth import caller
from berth.http.endpoint import (
    ADMIN,
    AUDITOR,
    BOOKING,
    FINANCE,
    GATE_DEVICE,
    OPERATIONS,
    Endpoint,
    roles,
)
from berth.http.problems import Problem
from berth.http.queries.reads import Query
from berth.http.schemas import answers
from berth.http.schemas.base import shared
from berth.http.schemas.queries import BookingListQuery, Consistent, DayQuery

READERS = roles(BOOKING, OPERATIONS, FINANCE, AUDITOR, ADMIN)


def _channel_filter(req: falcon.Request) -> str | None:
    """The channel to filter on: a booking key's own, whatever else was asked."""
    who = caller(req)
    asked: str | None = req.context.query.get("channel")
    if who.role != BOOKING:
        return asked
    if asked is not None and asked != who.key.scope:
        raise Problem(
            403,
            "channel-forbidden",
            "Channel forbidden",
            "a booking key reads its own channel's bookings only",
        )
    return who.key.scope


class BookingResource(Query):
    projections = ("bookings",)
    endpoints = {
        "GET": Endpoint(
            summary="A booking, from the bookings read model",
            tag="bookings",
            roles=roles(*READERS, GATE_DEVICE),
            query=Consistent,
            response=answers.Booking,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, booking_id: UUID) -> None:
        with self.consistent(req) as conn:
            row = queries.booking(conn, booking_id)
        if row is None or not caller(req).sees(
            channel=row["channel"], facility_id=row["facility_id"]
        ):
            raise UnknownBooking(f"no booking {booking_id}")
        resp.media = shared(answers.Booking).dump(row)
        resp.set_header("ETag", f'"{row["version"]}"')


class BookingListResource(Query):
    projections = ("bookings",)
    endpoints = {
        "GET": Endpoint(
            summary="Bookings in change order, filtered, a page at a time",
            tag="bookings",
            roles=READERS,
            query=BookingListQuery,
            response=answers.BookingPage,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        channel = _channel_filter(req)
        order = query["order"]
        search = {name: query.get(name) for name in SEARCH}
        with self.consistent(req) as conn:
            try:
                rows, following = queries.list_bookings(
                    conn,
                    facility_id=query.get("facility_id"),
                    status=query.get("status"),
                    arrival=query.get("arrival"),
                    channel=channel,
                    modified_since=query.get("modified_since"),
                    order=order,
                    after=_after(query.get("cursor"), order),
                    limit=query["limit"],
                    **search,
                )
            except queries.EmptySearch as error:
                raise Problem(400, "invalid-search", "Invalid search", str(error)) from None
        key = None if following is None else {"order": order, "after": _key_text(following)}
        resp.media = shared(answers.BookingPage).dump({"bookings": rows} | paging.page(req, key))


SEARCH = ("pool_id", "reference", "plate", "guest", "email", "stay_from", "stay_to")


def _key_text(key: Any) -> Any:
    return key if isinstance(key, int) else [str(part) for part in key]


def _after(cursor: str | None, order: str) -> Any:
    """The key a cursor continues after, for this order; 400 `invalid-cursor` otherwise."""
    if cursor is None:
        return None
    if cursor.isascii() and cursor.isdigit():  # a position, as pages answered before
        if order != "position" or int(cursor) >= 2**63:
            raise paging.invalid_cursor()
        return int(cursor)
    key = paging.decode(cursor)
    if not isinstance(key, dict) or key.get("order") != order:
        raise paging.invalid_cursor()
    after: Any = key.get("after")
    try:
        if order == "position":
            if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**63:
                raise ValueError(after)
            return after
        value, booking_id = list(after)
        column = queries.ORDERS[order][0]
        parsed = date.fromisoformat(value) if column == "arrival" else _moment(value)
        return parsed, UUID(booking_id)
    except (ValueError, TypeError, AttributeError):
        raise paging.invalid_cursor() from None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment


DayList = Callable[..., list[dict[str, Any]]]


class DayListResource(Query):
    """GET /facilities/{facility_id}/arrivals or /departures?date="""

    projections = ("bookings",)

    def __init__(self, *args: Any, summary: str, listing: DayList) -> None:
        super().__init__(*args)
        self.listing = listing
        self.endpoints = {
            "GET": Endpoint(
                summary=summary,
                tag="operations",
                roles=roles(OPERATIONS, FINANCE, AUDITOR, GATE_DEVICE, ADMIN),
                query=DayQuery,
                response=answers.DayList,
            )
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        if not caller(req).sees_facility(facility_id):
            raise UnknownFacility(f"no facility {facility_id}")
        query = req.context.query
        with self.consistent(req) as conn:
            rows = self.listing(
                conn, facility_id=facility_id, day=query["date"], channel=query.get("channel")
            )
        resp.media = shared(answers.DayList).dump(
            {"facility_id": facility_id, "date": query["date"], "bookings": rows}
        )


def arrivals(*args: Any) -> DayListResource:
    return DayListResource(
        *args, summary="Arrivals at a facility on a date", listing=queries.arrivals
    )


def departures(*args: Any) -> DayListResource:
    return DayListResource(
        *args, summary="Departures from a facility on a date", listing=queries.departures
    )
