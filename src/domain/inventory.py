"""Inventory of one pool on one night: the aggregate that decides the capacity rule.

One `NightInventory` per (pool, night), found by a deterministic id, is saved in the
same transaction as the booking that takes or gives back capacity, so optimistic
concurrency on these aggregates keeps every night within capacity under any
interleaving of commands. Holds count until they expire; an expired hold stops
counting at its expiry time, with no worker having to run first.
"""

from datetime import date, datetime
from typing import TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.error import DomainError

INVENTORY_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/night-inventory")


class NoCapacity(DomainError):
    code = "no-capacity"

    def __init__(self, *, night: date, wanted: int, remaining: int) -> None:
        super().__init__(f"only {remaining} left on the night of {night}, {wanted} wanted")
        self.night = night
        self.wanted = wanted
        self.remaining = remaining


class CapacityBelowSold(DomainError):
    code = "capacity-below-sold"

    def __init__(self, *, night: date, capacity: int, sold: int) -> None:
        super().__init__(f"cannot set capacity {capacity} on {night}: {sold} already sold")
        self.night = night


class Allocation(TypedDict):
    quantity: int
    expires_at: datetime | None  # None once confirmed


def inventory_id(pool_id: UUID, night: date) -> UUID:
    return uuid5(INVENTORY_NAMESPACE, f"{pool_id}/{night.isoformat()}")


class NightInventory(Aggregate):
    class Opened(recorded.Created):
        pool_id: UUID
        night: date
        capacity: int

    class CapacitySet(recorded.Event):
        capacity: int

        def apply(self, aggregate: "NightInventory") -> None:
            aggregate.capacity = self.capacity

    class Allocated(recorded.Event):
        booking_id: UUID
        quantity: int
        expires_at: datetime | None

        def apply(self, aggregate: "NightInventory") -> None:
            aggregate.allocations[str(self.booking_id)] = Allocation(
                quantity=self.quantity, expires_at=self.expires_at
            )

    class Firmed(recorded.Event):
        """A held allocation became confirmed: it no longer expires."""

        booking_id: UUID

        def apply(self, aggregate: "NightInventory") -> None:
            aggregate.allocations[str(self.booking_id)]["expires_at"] = None

    class Released(recorded.Event):
        booking_id: UUID

        def apply(self, aggregate: "NightInventory") -> None:
            del aggregate.allocations[str(self.booking_id)]

    def __init__(self, *, pool_id: UUID, night: date, capacity: int) -> None:
        self.pool_id = pool_id
        self.night = night
        self.capacity = capacity
        self.allocations: dict[str, Allocation] = {}

    @classmethod
    def open(
        cls, *, pool_id: UUID, night: date, capacity: int, now: datetime, cause: dict[str, str]
    ) -> "NightInventory":
        return cls._create(
            cls.Opened,
            id=inventory_id(pool_id, night),
            timestamp=now,
            cause=cause,
            pool_id=pool_id,
            night=night,
            capacity=capacity,
        )

    def sold(self, *, now: datetime, excluding: UUID | None = None) -> int:
        """Confirmed quantity plus holds that have not expired at `now`."""
        skip = str(excluding) if excluding else None
        return sum(
            a["quantity"]
            for key, a in self.allocations.items()
            if key != skip and (a["expires_at"] is None or a["expires_at"] > now)
        )

    def remaining(self, *, now: datetime) -> int:
        return max(self.capacity - self.sold(now=now), 0)

    def allocate(
        self,
        *,
        booking_id: UUID,
        quantity: int,
        expires_at: datetime | None,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        """Take (or, for an amendment, retake) `quantity` for a booking."""
        remaining = self.capacity - self.sold(now=now, excluding=booking_id)
        if quantity > remaining:
            raise NoCapacity(night=self.night, wanted=quantity, remaining=max(remaining, 0))
        self.trigger_event(
            self.Allocated,
            timestamp=now,
            cause=cause,
            booking_id=booking_id,
            quantity=quantity,
            expires_at=expires_at,
        )

    def firm(self, *, booking_id: UUID, now: datetime, cause: dict[str, str]) -> None:
        if str(booking_id) in self.allocations:
            self.trigger_event(self.Firmed, timestamp=now, cause=cause, booking_id=booking_id)

    def release(self, *, booking_id: UUID, now: datetime, cause: dict[str, str]) -> None:
        if str(booking_id) in self.allocations:
            self.trigger_event(self.Released, timestamp=now, cause=cause, booking_id=booking_id)

    def set_capacity(self, *, capacity: int, now: datetime, cause: dict[str, str]) -> None:
        sold = self.sold(now=now)
        if capacity < sold:
            raise CapacityBelowSold(night=self.night, capacity=capacity, sold=sold)
        if capacity != self.capacity:
            self.trigger_event(self.CapacitySet, timestamp=now, cause=cause, capacity=capacity)
