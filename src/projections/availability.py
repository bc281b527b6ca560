"""The availability projection: pools, nights' capacity and each booking's allocation per night,
and what each night sells at: the pools' rate plans, their tax rate and cancellation terms.

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
from typing import Any
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from berth.domain.inventory import NightInventory
from berth.domain.pool import Pool
from berth.domain.rate_plan import RatePlan

NAME = "availability"
TOPICS = frozenset(
    get_topic(cls)
    for cls in (
        Pool.Added,
        Pool.TaxRateSet,
        RatePlan.Created,
        RatePlan.TermsChanged,
        RatePlan.Retired,
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
    cancellation: dict[str, int]


@dataclass
class PlanChange:
    """A rate plan's row as of the page's end: whole if created in it, else the columns set."""

    plan_id: UUID
    version: int
    position: int
    modified_at: datetime
    created: dict[str, Any] | None = None
    name: str | None = None
    terms: dict[str, Any] | None = None
    retired: bool | None = None


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
    tax_rates: dict[UUID, int] = field(default_factory=dict)  # pool id -> basis points
    plans: dict[UUID, PlanChange] = field(default_factory=dict)

    def __len__(self) -> int:
        return (
            len(self.pools)
            + len(self.nights)
            + len(self.capacities)
            + len(self.allocations)
            + len(self.tax_rates)
            + len(self.plans)
        )


def fold(events: Iterable[tuple[int, AggregateEvent]]) -> AvailabilityChanges:
    """The net change of a page of (position, event) pairs, in notification order."""
    changes = AvailabilityChanges()
    for position, event in events:
        if isinstance(event, RatePlan.Created | RatePlan.TermsChanged | RatePlan.Retired):
            apply_plan(changes, position, event)
        else:
            apply(changes, event)
    return changes


def apply_plan(changes: AvailabilityChanges, position: int, event: AggregateEvent) -> None:
    key = event.originator_id
    plan = changes.plans.get(key)
    if plan is None:
        plan = changes.plans[key] = PlanChange(
            key, event.originator_version, position, event.timestamp
        )
    plan.version, plan.position, plan.modified_at = (
        event.originator_version,
        position,
        event.timestamp,
    )
    if isinstance(event, RatePlan.Created):
        plan.created = {
            "pool_id": event.pool_id,
            "facility_id": event.facility_id,
            "code": event.code,
            "currency": event.currency,
            "created_at": event.timestamp,
        }
        plan.name, plan.terms, plan.retired = event.name, event.terms, False
    elif isinstance(event, RatePlan.TermsChanged):
        plan.name, plan.terms = event.name, event.terms
    elif isinstance(event, RatePlan.Retired):
        plan.retired = True


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
            cancellation=event.cancellation,
        )
    elif isinstance(event, Pool.TaxRateSet):
        changes.tax_rates[key] = event.rate_bp
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
