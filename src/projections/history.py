"""An aggregate's history, replayed event by event: each event as data, and the state it left.

Pure: the adapter reads an aggregate's stored events in version order with their
positions and maps them with the application's mapper (so old event versions
arrive upcast); `replay` applies them one at a time with `event.mutate`, as the
library's repository does, and renders each event and the state after it as
plain JSON values (ids, dates and times as strings; private attributes left out).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

# Attributes every event has, shown beside its data rather than in it.
ENVELOPE = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "cause"}
)


@dataclass(frozen=True, kw_only=True)
class Step:
    """One event of an aggregate's history and the aggregate's state after it."""

    aggregate_id: UUID
    aggregate_type: str
    version: int
    position: int
    timestamp: datetime
    type: str  # the event's class, e.g. "Booking.Held"
    data: dict[str, Any]
    cause: dict[str, Any]
    state: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "aggregate_id": str(self.aggregate_id),
            "aggregate_type": self.aggregate_type,
            "version": self.version,
            "position": self.position,
            "timestamp": self.timestamp.isoformat(),
            "type": self.type,
            "data": self.data,
            "cause": self.cause,
            "state": self.state,
        }


def jsonable(value: Any) -> Any:
    """`value` as JSON's own types: dicts with string keys, lists, strings, numbers, null."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(jsonable(key)): jsonable(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=str)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"no JSON form for a {type(value).__name__}: {value!r}")


def event_data(event: Aggregate.Event) -> dict[str, Any]:
    """The event's own fields (not its envelope), as JSON values."""
    return {k: jsonable(v) for k, v in vars(event).items() if k not in ENVELOPE}


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    """The aggregate's public attributes, as JSON values."""
    return {k: jsonable(v) for k, v in vars(aggregate).items() if not k.startswith("_")}


def event_type(event: Aggregate.Event) -> str:
    return type(event).__qualname__


def replay(
    events: Iterable[tuple[int, Aggregate.Event]],
) -> Iterator[tuple[int, Aggregate.Event, Aggregate]]:
    """Apply `(position, event)` pairs of one aggregate, from version 1, one at a time.

    Yields each event with the aggregate after it: the same object each time,
    changed in place, so render it (`step`) before taking the next.
    """
    aggregate: Aggregate | None = None
    for position, event in events:
        aggregate = event.mutate(aggregate)
        assert aggregate is not None, f"{event_type(event)} left no aggregate"
        yield position, event, aggregate


def step(position: int, event: Aggregate.Event, aggregate: Aggregate) -> Step:
    """The event at `position` and the state it left, rendered."""
    return Step(
        aggregate_id=aggregate.id,
        aggregate_type=type(aggregate).__qualname__,
        version=aggregate.version,
        position=position,
        timestamp=event.timestamp,
        type=event_type(event),
        data=event_data(event),
        cause=jsonable(getattr(event, "cause", None) or {}),
        state=state_of(aggregate),
    )
