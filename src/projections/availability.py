"""The availability projection: pools, nights' capacity and each booking's allocation per night.

`fold` turns a page of events into the net change per row, in memory and without
I/O, so the adapter writes one statement per kind of change and one row per key
however many events touched it. Allocations are keyed by the night's inventory
id (events after `Opened` carry no pool or night); the adapter resolves it
through `availability_nights.inventory_id`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from berth.domain.inventory import NightInventory
from berth.domain.pool import Pool

NAME = "availability"
TOPICS = frozenset(
    get_topic(cls)
    for cls in (
        Pool.Added,
        NightInventory.Opened,
        NightInventory.CapacitySet,
        NightInventory.Allocated,
        NightInventory.Firmed,
        NightInventory.Released,
    )
)


@dataclass(frozen=True)
class PoolRow:
    pool_id: UUID
    facility_id: UUID
    name: str
    capacity: int
    nightly_price: int
    currency: str
    time_zone: str


@dataclass
class NightRow:
    """A night opened in this page (its capacity as of the page's end)."""

    inventory_id: UUID
    pool_id: UUID
    night: date
    capacity: int


@dataclass(frozen=True)
class Allocate:
    """The allocation is (re)written with this quantity and expiry (None: confirmed)."""

    quantity: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Firm:
    """An allocation written before this page became confirmed."""


@dataclass(frozen=True)
class Release:
    """The allocation is gone."""


AllocationChange = Allocate | Firm | Release


@dataclass
class AvailabilityChanges:
    pools: dict[UUID, PoolRow] = field(default_factory=dict)
    nights: dict[UUID, NightRow] = field(default_factory=dict)
    capacities: dict[UUID, int] = field(default_factory=dict)  # nights opened before the page
    allocations: dict[tuple[UUID, UUID], AllocationChange] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pools) + len(self.nights) + len(self.capacities) + len(self.allocations)


def fold(events: Iterable[tuple[int, AggregateEvent]]) -> AvailabilityChanges:
    """The net change of a page of (position, event) pairs, in notification order."""
    changes = AvailabilityChanges()
    for _, event in events:
        apply(changes, event)
    return changes


def apply(changes: AvailabilityChanges, event: AggregateEvent) -> None:
    key = event.originator_id
    if isinstance(event, Pool.Added):
        changes.pools[key] = PoolRow(
            pool_id=key,
            facility_id=event.facility_id,
            name=event.name,
            capacity=event.capacity,
            nightly_price=event.nightly_price,
            currency=event.currency,
            time_zone=event.time_zone,
        )
    elif isinstance(event, NightInventory.Opened):
        changes.nights[key] = NightRow(key, event.pool_id, event.night, event.capacity)
    elif isinstance(event, NightInventory.CapacitySet):
        if key in changes.nights:
            changes.nights[key].capacity = event.capacity
        else:
            changes.capacities[key] = event.capacity
    elif isinstance(event, NightInventory.Allocated):
        changes.allocations[key, event.booking_id] = Allocate(event.quantity, event.expires_at)
    elif isinstance(event, NightInventory.Firmed):
        allocation_key = (key, event.booking_id)
        before = changes.allocations.get(allocation_key)
        if isinstance(before, Allocate):
            changes.allocations[allocation_key] = Allocate(before.quantity, None)
        elif before is None:
            changes.allocations[allocation_key] = Firm()
        # Firm after Release cannot happen: the aggregate only firms what it holds.
    elif isinstance(event, NightInventory.Released):
        changes.allocations[key, event.booking_id] = Release()
