"""A webhook's body: what changed, as the API shows it right after the event, and the envelope.

The body reads (Standard Webhooks' `type`/`timestamp`/`data` shape)::

    {"type": "booking.confirmed", "timestamp": "...", "event_id": "...",
     "position": 1234, "correlation_id": "...", "data": {<the booking>}}

For a booking's events `data` is `berth.adapters.representations.Booking` dumped
from `berth.projections.bookings.row_of` of the booking as of that event: the
representation every command and query answers with. For `availability.changed`
it is `representations.Availability` with the one night that changed (capacity, held,
confirmed, remaining at the event's time), as GET /availability shows it.
`event_id` is the event's stable id (the Kafka relay's too). `AggregateStates`
keeps the latest state of recently seen aggregates, so following the log applies
each event to the state before it, and loads one from the store only when it has
not kept it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate, AggregateEvent
from eventsourcing.persistence import Mapper, StoredEvent

from berth.adapters.kafka.kafka_records import event_id
from berth.adapters.representations import Availability as AvailabilityAnswer
from berth.adapters.representations import Booking as BookingAnswer
from berth.adapters.tracking.projection_store import Notification
from berth.domain.booking import Booking
from berth.domain.inventory import NightInventory
from berth.projections.bookings import row_of

Connection = psycopg.Connection[Any]
_BOOKING = BookingAnswer()
_AVAILABILITY = AvailabilityAnswer()


class AggregateStates:
    """An aggregate right after an event, from the state before it (kept) or the store."""

    def __init__(self, mapper: Mapper[UUID], *, size: int = 10_000) -> None:
        self.mapper = mapper
        self.size = size
        self.kept: OrderedDict[UUID, Aggregate] = OrderedDict()
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

    def after(self, conn: Connection, event: AggregateEvent) -> Aggregate:
        key, version = event.originator_id, event.originator_version
        before = self.kept.pop(key, None)
        if version == 1:
            aggregate = event.mutate(None)
        elif before is not None and before.version == version - 1:
            aggregate = event.mutate(before)
        else:
            aggregate = self._load(conn, key, version)
        assert isinstance(aggregate, Aggregate)
        self.kept[key] = aggregate
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        return aggregate

    def _load(self, conn: Connection, aggregate_id: UUID, version: int) -> Aggregate:
        self.loads += 1
        rows = conn.execute(
            "SELECT originator_version, topic, state FROM berth_events"
            " WHERE originator_id = %s AND originator_version <= %s ORDER BY originator_version",
            (aggregate_id, version),
        ).fetchall()
        conn.commit()
        aggregate: Any = None
        for stored_version, topic, state in rows:
            stored = StoredEvent(aggregate_id, stored_version, topic, bytes(state))
            event = self.mapper.to_domain_event(stored)
            assert isinstance(event, AggregateEvent)
            aggregate = event.mutate(aggregate)
        assert isinstance(aggregate, Aggregate)
        return aggregate


def data(aggregate: Aggregate, *, event: AggregateEvent, position: int) -> dict[str, Any]:
    """What the API shows of the aggregate: the booking, or the inventory's night."""
    if isinstance(aggregate, Booking):
        return dict(_BOOKING.dump(row_of(aggregate, position=position)))
    assert isinstance(aggregate, NightInventory)
    now = event.timestamp
    allocations = aggregate.allocations.values()
    confirmed = sum(a["quantity"] for a in allocations if a["expires_at"] is None)
    held = sum(a["quantity"] for a in allocations if a["expires_at"] and a["expires_at"] > now)
    night = {
        "night": aggregate.night,
        "capacity": aggregate.capacity,
        "held": held,
        "confirmed": confirmed,
        "remaining": aggregate.remaining(now=now),
    }
    return dict(_AVAILABILITY.dump({"pool_id": aggregate.pool_id, "nights": [night]}))


def body(*, event_type: str, event: AggregateEvent, aggregate: Aggregate, position: int) -> str:
    cause = getattr(event, "cause", None) or {}
    envelope = {
        "type": event_type,
        "timestamp": event.timestamp.isoformat(),
        "event_id": str(event_id(event.originator_id, event.originator_version)),
        "position": position,
        "correlation_id": cause.get("correlation_id", "") if isinstance(cause, dict) else "",
        "data": data(aggregate, event=event, position=position),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
