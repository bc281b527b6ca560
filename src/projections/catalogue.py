"""The catalogue projection: facilities, pools, gates and cameras as a booking site reads them.

One row per aggregate with the fields it has now, its version (the ETag a
command's `If-Match` compares with) and the position of its last event. Every
event of these aggregates moves the version, so each is read here even when it
changes no field shown (a pool's capacity for a range of nights): the topics are
every event class the four aggregates declare, and one this module knows no
field of only moves its row's version, position and time.

Catalogue traffic is light, so `fold` keeps a page as an ordered list of row
operations, like the occupancy projection. A camera's secret is never in an
event, so it is never here either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate, AggregateEvent
from eventsourcing.utils import get_topic

from berth.domain.camera import Camera
from berth.domain.facility import Facility
from berth.domain.gate import Gate
from berth.domain.pool import Pool

NAME = "catalogue"


def _events(aggregate: type[Aggregate]) -> list[type[AggregateEvent]]:
    """Every event class an aggregate declares, so a new one cannot be missed (its version)."""
    found = [getattr(aggregate, name) for name in dir(aggregate)]
    return [
        cls
        for cls in found
        if isinstance(cls, type)
        and issubclass(cls, AggregateEvent)
        and cls.__qualname__.startswith(f"{aggregate.__name__}.")
    ]


# An event this module does not read a field of still moves its row's version.
TOUCHED = {
    cls: kind
    for aggregate, kind in (
        (Facility, "facility"),
        (Pool, "pool"),
        (Gate, "gate"),
        (Camera, "camera"),
    )
    for cls in _events(aggregate)
}
TOPICS = frozenset(get_topic(cls) for cls in TOUCHED)


@dataclass(frozen=True)
class Operation:
    """One row operation, named for the adapter's statement, with its parameters."""

    kind: str
    params: dict[str, Any]


def fold(events: Iterable[tuple[int, AggregateEvent]]) -> list[Operation]:
    return [op for position, event in events for op in operations(position, event)]


def operations(position: int, event: AggregateEvent) -> list[Operation]:
    stamp = {
        "id": event.originator_id,
        "version": event.originator_version,
        "position": position,
        "at": event.timestamp,
    }
    if isinstance(event, Facility.Registered):
        return [Operation("facility", stamp | {"name": event.name, "time_zone": event.time_zone})]
    if isinstance(event, Facility.CurrencySet):
        return [Operation("facility_currency", stamp | {"currency": event.currency})]
    if isinstance(event, Pool.Added):
        params = stamp | {
            "facility_id": event.facility_id, "name": event.name, "capacity": event.capacity,
            "nightly_price": event.nightly_price, "currency": event.currency,
            "time_zone": event.time_zone, "cancellation": dict(event.cancellation),
        }  # fmt: skip
        return [Operation("pool", params)]
    if isinstance(event, Pool.OverstayTariffSet):
        return [Operation("pool_overstay", stamp | {"hourly": event.hourly})]
    if isinstance(event, Pool.TaxRateSet):
        return [Operation("pool_tax", stamp | {"rate_bp": event.rate_bp})]
    if isinstance(event, Gate.Added):
        params = stamp | {
            "facility_id": event.facility_id, "name": event.name, "direction": event.direction,
            "early_grace_minutes": event.early_grace_minutes,
            "late_grace_minutes": event.late_grace_minutes,
            "passage_seconds": event.passage_seconds,
        }  # fmt: skip
        return [Operation("gate", params)]
    if isinstance(event, Camera.Registered):
        params = stamp | {
            "facility_id": event.facility_id, "camera_id": event.camera_id,
            "gate_id": event.gate_id,
        }  # fmt: skip
        return [Operation("camera", params)]
    if isinstance(event, Camera.Moved):
        return [Operation("camera_moved", stamp | {"gate_id": event.gate_id})]
    if isinstance(event, Camera.Rekeyed):
        params = stamp | {"previous_valid_until": event.previous_valid_until}
        return [Operation("camera_rekeyed", params)]
    kind = TOUCHED.get(type(event))
    return [] if kind is None else [Operation(f"{kind}_touched", stamp)]
