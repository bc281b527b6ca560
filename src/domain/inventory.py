"""Inventory of one pool on one night: the aggregate that decides the capacity rule.

One `NightInventory` per (pool, night), found by a deterministic id, is saved in the
same transaction as the booking that takes or gives back capacity, so optimistic
concurrency on these aggregates keeps every night within capacity under any
interleaving of commands. Holds count until they expire; an expired hold stops
counting at its expiry time, with no worker having to run first.
"""

from bisect import bisect_left, bisect_right, insort
from datetime import date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.cache_copy import CheapCacheCopy
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


# A hold names each of its nights about ten times (locks, reads, save); a uuid5
# costs a SHA-1 and a UUID each time. Bounded: a few MB for the nights in use.
@lru_cache(maxsize=16_384)
def inventory_id(pool_id: UUID, night: date) -> UUID:
    return uuid5(INVENTORY_NAMESPACE, f"{pool_id}/{night.isoformat()}")


_expiry = itemgetter(0)


class Tally:
    """What a night's allocations add up to, and its holds in order of expiry.

    Derived from the allocations (never stored): with it, counting what is sold
    and forgetting expired holds cost the holds that expired, not every hold.
    """

    __slots__ = ("expiring", "total")

    def __init__(self, allocations: dict[str, Allocation]) -> None:
        self.total = sum(a["quantity"] for a in allocations.values())
        self.expiring = sorted(
            (a["expires_at"], key) for key, a in allocations.items() if a["expires_at"] is not None
        )

    def copy(self) -> "Tally":
        copy = object.__new__(Tally)
        copy.total, copy.expiring = self.total, list(self.expiring)
        return copy

    def add(self, key: str, allocation: Allocation) -> None:
        self.total += allocation["quantity"]
        if allocation["expires_at"] is not None:
            insort(self.expiring, (allocation["expires_at"], key))

    def remove(self, key: str, allocation: Allocation) -> None:
        self.total -= allocation["quantity"]
        if allocation["expires_at"] is not None:
            entry = (allocation["expires_at"], key)
            del self.expiring[bisect_left(self.expiring, entry)]

    def expired_by(self, moment: datetime) -> list[tuple[datetime, str]]:
        """The holds (expiry, key) that expired by `moment`, soonest first."""
        return self.expiring[: bisect_right(self.expiring, moment, key=_expiry)]


class NightInventory(CheapCacheCopy, Aggregate):
    _changed_in_place = ("allocations",)

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
            aggregate.put(
                str(self.booking_id), Allocation(quantity=self.quantity, expires_at=self.expires_at)
            )

    class Firmed(recorded.Event):
        """A held allocation became confirmed: it no longer expires."""

        booking_id: UUID

        def apply(self, aggregate: "NightInventory") -> None:
            key = str(self.booking_id)
            held = aggregate.allocations[key]
            aggregate.put(key, Allocation(quantity=held["quantity"], expires_at=None))

    class Released(recorded.Event):
        booking_id: UUID

        def apply(self, aggregate: "NightInventory") -> None:
            aggregate.drop(str(self.booking_id))

    # The tally lives in a slot, not in the instance's dict, so a snapshot (the
    # library's, of that dict) never carries it, and keeps the library's topic:
    # a process of an earlier release reads it as before.
    __slots__ = ("_tally",)

    def __init__(self, *, pool_id: UUID, night: date, capacity: int) -> None:
        self.pool_id = pool_id
        self.night = night
        self.capacity = capacity
        # Values are replaced, never changed in place, so a shallow copy is a safe copy.
        self.allocations: dict[str, Allocation] = {}

    def __deepcopy__(self, memo: dict[int, object]) -> "NightInventory":
        """CheapCacheCopy's copy (a hot night has hundreds of allocations), and the tally's."""
        copied = super().__deepcopy__(memo)
        tally: Tally | None = getattr(self, "_tally", None)
        if tally is not None:
            copied._tally = tally.copy()
        return copied

    def tally(self) -> Tally:
        """The allocations' tally, built once per copy (a snapshot does not carry it)."""
        tally: Tally | None = getattr(self, "_tally", None)
        if tally is None:
            tally = self._tally = Tally(self.allocations)
        return tally

    def put(self, key: str, allocation: Allocation) -> None:
        """Set a booking's allocation (replacing any it had)."""
        tally = self.drop(key)
        self.allocations[key] = allocation
        tally.add(key, allocation)

    def drop(self, key: str) -> Tally:
        """Remove a booking's allocation, if it has one; the tally, as it now is."""
        tally = self.tally()  # built before the allocations change, so it counts what they had
        allocation = self.allocations.pop(key, None)
        if allocation is not None:
            tally.remove(key, allocation)
        return tally

    def forget_expired_holds(self, moment: datetime) -> None:
        """Drop holds that expired by `moment` (an event's timestamp, so replay agrees).

        They stopped counting at their expiry already; dropping them keeps a hot
        night's state bounded by its capacity rather than by every hold ever made.
        """
        tally = self.tally()
        expired = tally.expired_by(moment)
        for _, key in expired:
            tally.total -= self.allocations.pop(key)["quantity"]
        del tally.expiring[: len(expired)]

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
        tally = self.tally()
        sold = tally.total - sum(
            self.allocations[key]["quantity"] for _, key in tally.expired_by(now)
        )
        skipped = self.allocations.get(str(excluding)) if excluding else None
        if skipped is not None and (skipped["expires_at"] is None or skipped["expires_at"] > now):
            sold -= skipped["quantity"]
        return sold

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
