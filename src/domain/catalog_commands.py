"""Commands on facilities, pools and their nights' capacity, and the reads they need."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from berth.domain.bounds import check_date
from berth.domain.cancellation import CancellationPolicy
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandApplication, CommandResult, check_version
from berth.domain.error import NotFound
from berth.domain.facility import Facility
from berth.domain.inventory import NightInventory, inventory_id
from berth.domain.pool import Pool, check_capacity
from berth.domain.stay import MAX_NIGHTS, DatesOutOfOrder, Stay


class UnknownFacility(NotFound):
    code = "unknown-facility"


class UnknownPool(NotFound):
    code = "unknown-pool"


class Catalogue:
    """Facilities, pools and the capacity of their nights."""

    def __init__(self, app: CommandApplication) -> None:
        self.app = app

    def register_facility(
        self, *, name: str, time_zone: str, context: CommandContext
    ) -> CommandResult:
        facility = Facility.register(
            facility_id=uuid4(),
            name=name,
            time_zone=time_zone,
            now=self.app.clock(),
            cause=context.cause.as_metadata(),
        )
        return self.app.save_new(facility, context)

    def add_pool(
        self,
        *,
        facility_id: UUID,
        name: str,
        capacity: int,
        nightly_price: int,
        currency: str,
        cancellation: CancellationPolicy | None = None,
        context: CommandContext,
    ) -> CommandResult:
        pool_id = uuid4()

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.facility(facility_id)
            pool = Pool.add(
                pool_id=pool_id,
                facility_id=facility.id,
                time_zone=facility.time_zone,
                name=name,
                capacity=capacity,
                nightly_price=nightly_price,
                currency=currency,
                cancellation=cancellation or CancellationPolicy(),
                now=now,
                cause=meta,
            )
            # One currency per facility: the first pool's, recorded in the same transaction.
            facility.adopt_currency(currency=pool.currency, now=now, cause=meta)
            return pool, [pool, facility]

        return self.app.execute(attempt, context, lock=[])

    def change_capacity(
        self,
        *,
        pool_id: UUID,
        first_night: date,
        last_night: date,
        capacity: int,
        context: CommandContext,
    ) -> CommandResult:
        """Set the capacity of every night from `first_night` to `last_night` inclusive."""
        check_capacity(capacity)  # before any night compares it with what is sold
        check_date(first_night)
        check_date(last_night)  # so the night after it can be computed
        if last_night < first_night:
            raise DatesOutOfOrder(f"last night {last_night} is before first night {first_night}")
        nights = Stay(first_night, last_night + timedelta(days=1)).days()
        if len(nights) > MAX_NIGHTS:
            raise DatesOutOfOrder(f"a capacity change covers at most {MAX_NIGHTS} nights")

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.pool(pool_id)
            check_version(pool, context.expected_version)
            inventories = self.inventories(pool, nights, now, meta)
            for inventory in inventories:
                inventory.set_capacity(capacity=capacity, now=now, cause=meta)
            pool.record_capacity_change(
                first_night=first_night,
                last_night=last_night,
                capacity=capacity,
                now=now,
                cause=meta,
            )
            return pool, [pool, *inventories]

        keys = [inventory_id(pool_id, n) for n in nights]
        return self.app.execute(attempt, context, lock=keys)

    def set_tax_rate(
        self, *, pool_id: UUID, rate_bp: int, context: CommandContext
    ) -> CommandResult:
        """The tax included in the pool's prices from now on, in basis points."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.pool(pool_id)
            pool.set_tax_rate(rate_bp=rate_bp, now=now, cause=meta)
            return pool, [pool]

        return self.app.execute(attempt, context, lock=[])

    def facility(self, facility_id: UUID) -> Facility:
        return self.app.find(facility_id, Facility, UnknownFacility)

    def pool(self, pool_id: UUID) -> Pool:
        return self.app.find(pool_id, Pool, UnknownPool)

    def night_inventory(self, pool_id: UUID, night: date) -> NightInventory | None:
        try:
            inventory: object = self.app.repository.get(inventory_id(pool_id, night))
        except AggregateNotFoundError:
            return None
        assert isinstance(inventory, NightInventory)
        return inventory

    def sold(self, pool_id: UUID, night: date) -> int:
        """Sold on the write side (confirmed plus live holds) as of the clock's now."""
        inventory = self.night_inventory(pool_id, night)
        return inventory.sold(now=self.app.clock()) if inventory else 0

    def inventories(
        self, pool: Pool, nights: Iterable[date], now: datetime, meta: dict[str, str]
    ) -> list[NightInventory]:
        """The inventory of each night, opened at the pool's capacity if new."""
        inventories = []
        for night in nights:
            inventory = self.night_inventory(pool.id, night)
            if inventory is None:
                inventory = NightInventory.open(
                    pool_id=pool.id, night=night, capacity=pool.capacity, now=now, cause=meta
                )
            inventories.append(inventory)
        return inventories

    def existing_inventories(self, pool_id: UUID, nights: Iterable[date]) -> list[NightInventory]:
        found = (self.night_inventory(pool_id, night) for night in nights)
        return [inventory for inventory in found if inventory is not None]
