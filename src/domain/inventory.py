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
            aggregate.forget_expired_holds(self.timestamp)
            aggregate.allocations[str(self.booking_id)] = Allocation(
                quantity=self.quantity, expires_at=self.expires_at
            )

    class Firmed(recorded.Event):
        """A held allocation became confirmed: it no longer expires."""

        booking_id: UUID

        def apply(self, aggregate: "NightInventory") -> None:
            key = str(self.booking_id)
            held = aggregate.allocations[key]
            aggregate.allocations[key] = Allocation(quantity=held["quantity"], expires_at=None)

    class Released(recorded.Event):
        booking_id: UUID

        def apply(self, aggregate: "NightInventory") -> None:
            aggregate.allocations.pop(str(self.booking_id), None)

    def __init__(self, *, pool_id: UUID, night: date, capacity: int) -> None:
        self.pool_id = pool_id
        self.night = night
        self.capacity = capacity
        # Values are replaced, never changed in place, so a shallow copy is a safe copy.
        self.allocations: dict[str, Allocation] = {}

    def __deepcopy__(self, memo: dict[int, object]) -> "NightInventory":
        """A cheap copy for the aggregate cache: a hot night has hundreds of allocations."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.allocations = dict(self.allocations)
        copy._pending_events = list(self._pending_events)
        return copy

    def forget_expired_holds(self, moment: datetime) -> None:
        """Drop holds that expired by `moment` (an event's timestamp, so replay agrees).

        They stopped counting at their expiry already; dropping them keeps a hot
        night's state bounded by its capacity rather than by every hold ever made.
        """
        expired = [
            key
            for key, a in self.allocations.items()
            if a["expires_at"] is not None and a["expires_at"] <= moment
        ]
        for key in expired:
            del self.allocations[key]

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

    def firm(
        self, *, booking_id: UUID, quantity: int, now: datetime, cause: dict[str, str]
    ) -> None:
        """Make a booking's hold permanent; if the hold is gone, take the capacity afresh."""
        if str(booking_id) in self.allocations:
            self.trigger_event(self.Firmed, timestamp=now, cause=cause, booking_id=booking_id)
        else:
            self.allocate(
                booking_id=booking_id, quantity=quantity, expires_at=None, now=now, cause=cause
            )

    def release(self, *, booking_id: UUID, now: datetime, cause: dict[str, str]) -> None:
        """Give back a booking's night; recorded even for a hold already forgotten on expiry,
        so read models can drop the allocation too."""
        self.trigger_event(self.Released, timestamp=now, cause=cause, booking_id=booking_id)

    def set_capacity(self, *, capacity: int, now: datetime, cause: dict[str, str]) -> None:
        sold = self.sold(now=now)
        if capacity < sold:
            raise CapacityBelowSold(night=self.night, capacity=capacity, sold=sold)
        if capacity != self.capacity:
            self.trigger_event(self.CapacitySet, timestamp=now, cause=cause, capacity=capacity)
