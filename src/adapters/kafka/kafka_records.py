"""Domain events as Kafka records: topic per aggregate kind, key, JSON value, headers, event id.

One notification of the store becomes one record:

- topic: ``{prefix}{kind}``, the kind taken from the event's class path in kebab
  case (``berth.domain.booking:Booking.Held`` -> ``berth.booking``,
  ``NightInventory`` -> ``berth.night-inventory``);
- key: the aggregate id (its canonical string), so one aggregate's events share
  a partition and stay in order;
- value: JSON ``{event_id, type, aggregate_type, aggregate_id, version, position,
  timestamp, cause, data}``, decoded through the application's mapper (upcasting
  included) and written with plain JSON types: ids and times as strings;
- headers: ``event-id``, ``event-type``, ``aggregate-type``, ``aggregate-id``,
  ``version``, ``position``, ``correlation-id``, ``content-type``.

The event id is uuid5(EVENT_ID_NAMESPACE, "{aggregate id}:{version}"): the same
for every publication of an event, so consumers deduplicate on it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.persistence import Mapper, StoredEvent

from berth.adapters.tracking.projection_store import Notification

EVENT_ID_NAMESPACE = UUID("6f1d3c52-8a4e-5b0c-9d57-0c2b1e4a7f90")
DEFAULT_TOPIC_PREFIX = "berth."
CONTENT_TYPE = b"application/json"

# Attributes of every event that the value carries in its envelope, not in `data`.
_ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    event_id: UUID
    position: int
    timestamp: datetime | None


def event_id(aggregate_id: UUID, version: int) -> UUID:
    """The stable id of the `version`th event of aggregate `aggregate_id`."""
    return uuid5(EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}")


def kebab(name: str) -> str:
    """``NightInventory`` -> ``night-inventory``, ``ANPRRead`` -> ``anpr-read``."""
    return _WORD_BOUNDARY.sub("-", name).lower()


def aggregate_kind(event_topic: str) -> str:
    """The aggregate kind of an event topic (``module:Aggregate.Event``), in kebab case.

    An event class nested in its aggregate names the kind by its outer class; a
    module-level event class by its module's last name.
    """
    module, _, qualname = event_topic.partition(":")
    outer, dot, _ = qualname.rpartition(".")
    if dot:
        return kebab(outer.rpartition(".")[2])
    return kebab(module.rpartition(".")[2])


def event_type(event_topic: str) -> str:
    """``berth.domain.booking:Booking.Held`` -> ``Booking.Held``."""
    return event_topic.partition(":")[2] or event_topic


def to_record(notification: Notification, mapper: Mapper[UUID], *, prefix: str) -> Record:
    """The Kafka record of one stored event."""
    event = mapper.to_domain_event(
        StoredEvent(
            originator_id=notification.originator_id,
            originator_version=notification.originator_version,
            topic=notification.topic,
            state=notification.state,
        )
    )
    attributes = event.__dict__
    aggregate_id = notification.originator_id
    version = notification.originator_version
    kind = aggregate_kind(notification.topic)
    kind_of_event = event_type(notification.topic)
    identity = event_id(aggregate_id, version)
    cause = attributes.get("cause") or {}
    timestamp = attributes.get("timestamp")
    value = {
        "event_id": str(identity),
        "type": kind_of_event,
        "aggregate_type": kind,
        "aggregate_id": str(aggregate_id),
        "version": version,
        "position": notification.id,
        "timestamp": timestamp.isoformat() if isinstance(timestamp, datetime) else None,
        "cause": cause,
        "data": {k: v for k, v in attributes.items() if k not in _ENVELOPE and k != "cause"},
    }
    correlation_id = cause.get("correlation_id", "") if isinstance(cause, dict) else ""
    return Record(
        topic=prefix + kind,
        key=str(aggregate_id).encode(),
        value=json.dumps(value, default=_plain, separators=(",", ":")).encode(),
        headers=[
            ("event-id", str(identity).encode()),
            ("event-type", kind_of_event.encode()),
            ("aggregate-type", kind.encode()),
            ("aggregate-id", str(aggregate_id).encode()),
            ("version", str(version).encode()),
            ("position", str(notification.id).encode()),
            ("correlation-id", str(correlation_id).encode()),
            ("content-type", CONTENT_TYPE),
        ],
        event_id=identity,
        position=notification.id,
        timestamp=timestamp if isinstance(timestamp, datetime) else None,
    )


def _plain(obj: Any) -> Any:
    """JSON for the values events hold beyond JSON's own types."""
    if isinstance(obj, UUID):
        return str(obj)
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=str)
    if isinstance(obj, tuple):
        return list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    raise TypeError(f"cannot publish a {type(obj).__name__} as JSON: {obj!r}")
