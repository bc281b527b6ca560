"""A webhook's body: the booking as the API shows it, right after the event, and the envelope.

The body reads (Standard Webhooks' `type`/`timestamp`/`data` shape)::

    {"type": "booking.confirmed", "timestamp": "...", "event_id": "...",
     "position": 1234, "correlation_id": "...", "data": {<the booking>}}

`data` is `berth.http.schemas.answers.Booking` dumped from
`berth.projections.bookings.row_of` of the booking as of that event: the
representation every command and query answers with. `event_id` is the event's
stable id (the Kafka relay's too). `BookingStates` keeps the latest state of
recently seen bookings, so following the log applies each event to the state
before it, and loads a booking from the store only when it has not kept it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import AggregateEvent
from eventsourcing.persistence import Mapper, StoredEvent

from berth.adapters.kafka_records import event_id
from berth.adapters.projection_store import Notification
from berth.domain.booking import Booking
from berth.http.schemas.answers import Booking as BookingAnswer
from berth.projections.bookings import row_of

Connection = psycopg.Connection[Any]
_ANSWER = BookingAnswer()


class BookingStates:
    """The booking right after an event, from the state before it (kept) or the store."""

    def __init__(self, mapper: Mapper[UUID], *, size: int = 10_000) -> None:
        self.mapper = mapper
        self.size = size
        self.kept: OrderedDict[UUID, Booking] = OrderedDict()
        self.loads = 0

    def decode(self, notification: Notification) -> AggregateEvent:
        event = self.mapper.to_domain_event(
            StoredEvent(
                originator_id=notification.originator_id,
                originator_version=notification.originator_version,
                topic=notification.topic,
                state=notification.state,
            )
        )
        assert isinstance(event, AggregateEvent)
        return event

    def after(self, conn: Connection, event: AggregateEvent) -> Booking:
        key, version = event.originator_id, event.originator_version
        before = self.kept.pop(key, None)
        if version == 1:
            booking = event.mutate(None)
        elif before is not None and before.version == version - 1:
            booking = event.mutate(before)
        else:
            booking = self._load(conn, key, version)
        assert isinstance(booking, Booking)
        self.kept[key] = booking
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        return booking

    def _load(self, conn: Connection, booking_id: UUID, version: int) -> Booking:
        self.loads += 1
        rows = conn.execute(
            "SELECT originator_version, topic, state FROM berth_events"
            " WHERE originator_id = %s AND originator_version <= %s ORDER BY originator_version",
            (booking_id, version),
        ).fetchall()
        conn.commit()
        booking: Any = None
        for stored_version, topic, state in rows:
            stored = StoredEvent(booking_id, stored_version, topic, bytes(state))
            event = self.mapper.to_domain_event(stored)
            assert isinstance(event, AggregateEvent)
            booking = event.mutate(booking)
        assert isinstance(booking, Booking)
        return booking


def body(*, event_type: str, event: AggregateEvent, booking: Booking, position: int) -> str:
    cause = getattr(event, "cause", None) or {}
    envelope = {
        "type": event_type,
        "timestamp": event.timestamp.isoformat(),
        "event_id": str(event_id(event.originator_id, event.originator_version)),
        "position": position,
        "correlation_id": cause.get("correlation_id", "") if isinstance(cause, dict) else "",
        "data": _ANSWER.dump(row_of(booking, position=position)),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
