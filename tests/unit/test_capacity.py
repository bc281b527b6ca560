"""Never sell more than a pool's capacity on any night; holds count until they expire."""

from uuid import UUID

import pytest

from berth.domain.application import NIGHT_SNAPSHOT_INTERVAL, Reservations
from berth.domain.booking import Status
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.inventory import CapacityBelowSold, NoCapacity
from berth.domain.pool import InvalidCapacity
from berth.domain.stay import DatesOutOfOrder

from .support import Clock, HoldFn, night, stay, store_size


def test_a_hold_counts_against_capacity_until_it_expires(
    app: Reservations, clock: Clock, hold: HoldFn, pool_id: UUID
) -> None:
    hold(quantity=2)
    clock.advance(minutes=14, seconds=59)
    assert app.catalogue.sold(pool_id, night(0)) == 2

    with pytest.raises(NoCapacity) as refused:
        hold(quantity=1)

    assert refused.value.remaining == 0
    assert refused.value.night == night(0)


def test_an_expired_hold_frees_its_capacity_at_once_without_a_worker(
    app: Reservations, clock: Clock, hold: HoldFn, pool_id: UUID
) -> None:
    first = hold(quantity=2).id
    clock.advance(minutes=15)

    assert app.catalogue.sold(pool_id, night(0)) == 0
    second = hold(quantity=2).id

    assert app.bookings.booking(first).status == Status.HELD  # nobody ran `expire`
    assert app.bookings.booking(second).status == Status.HELD
    assert app.catalogue.sold(pool_id, night(0)) == 2


def test_a_confirmed_booking_keeps_its_capacity_after_the_hold_time(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    booking_id = hold(quantity=2).id
    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
    clock.advance(hours=12)  # 22:00 local, still the same night

    assert app.catalogue.sold(pool_id, night(1)) == 0  # (the stay is tonight only)
    assert app.catalogue.sold(pool_id, night(0)) == 2
    with pytest.raises(NoCapacity):
        hold(quantity=1)


def test_a_stay_is_refused_whole_when_any_of_its_nights_is_full(
    app: Reservations, hold: HoldFn, pool_id: UUID
) -> None:
    hold(first=2, quantity=2)  # the third night is full
    before = store_size(app)

    with pytest.raises(NoCapacity) as refused:
        hold(first=0, nights=4, quantity=1)

    assert refused.value.night == night(2)
    assert store_size(app) == before
    assert [app.catalogue.sold(pool_id, night(n)) for n in range(4)] == [0, 0, 2, 0]


def test_a_stay_takes_every_night_but_the_departure_day(
    app: Reservations, hold: HoldFn, pool_id: UUID
) -> None:
    hold(first=1, nights=3, quantity=2)

    assert [app.catalogue.sold(pool_id, night(n)) for n in range(5)] == [0, 2, 2, 2, 0]


def test_holds_fill_a_pool_exactly_to_its_capacity(
    app: Reservations, hold: HoldFn, pool_id: UUID
) -> None:
    hold(quantity=1)
    hold(quantity=1)

    with pytest.raises(NoCapacity):
        hold(quantity=1)
    assert app.catalogue.sold(pool_id, night(0)) == 2


def test_a_pool_of_zero_sells_nothing(app: Reservations, make_pool, cause: Cause) -> None:
    empty = make_pool(capacity=0)

    with pytest.raises(NoCapacity):
        app.bookings.hold(
            pool_id=empty,
            stay=stay(0),
            quantity=1,
            guest={"name": "Ada"},
            context=CommandContext(cause=cause),
        )


@pytest.mark.parametrize("end", ["cancel", "expire", "no_show"])
def test_ending_a_booking_gives_its_nights_back(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID, end: str
) -> None:
    booking_id = hold(nights=2, quantity=2).id
    if end == "cancel":
        app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause))
    elif end == "expire":
        clock.advance(minutes=20)
        app.bookings.expire(booking_id=booking_id, context=CommandContext(cause=cause))
    else:
        app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))
        app.bookings.record_no_show(booking_id=booking_id, context=CommandContext(cause=cause))

    assert [app.catalogue.sold(pool_id, night(n)) for n in (0, 1)] == [0, 0]
    inventory = app.catalogue.night_inventory(pool_id, night(0))
    assert inventory is not None
    assert inventory.allocations == {}
    hold(nights=2, quantity=2)  # and they can be sold again


def test_capacity_cannot_be_set_below_what_is_sold(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    hold(first=1, quantity=2)
    before = store_size(app)

    with pytest.raises(CapacityBelowSold):
        app.catalogue.change_capacity(
            pool_id=pool_id,
            first_night=night(0),
            last_night=night(2),
            capacity=1,
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == before
    assert app.catalogue.night_inventory(pool_id, night(0)) is None  # not even opened


def test_capacity_can_be_set_down_to_exactly_what_is_sold(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    hold(quantity=1)

    app.catalogue.change_capacity(
        pool_id=pool_id,
        first_night=night(0),
        last_night=night(0),
        capacity=1,
        context=CommandContext(cause=cause),
    )

    with pytest.raises(NoCapacity):
        hold(quantity=1)


def test_capacity_can_be_set_below_an_expired_hold(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    hold(quantity=2)
    clock.advance(minutes=15)

    app.catalogue.change_capacity(
        pool_id=pool_id,
        first_night=night(0),
        last_night=night(0),
        capacity=0,
        context=CommandContext(cause=cause),
    )

    inventory = app.catalogue.night_inventory(pool_id, night(0))
    assert inventory is not None
    assert inventory.capacity == 0


def test_a_capacity_change_applies_to_its_nights_only(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    app.catalogue.change_capacity(
        pool_id=pool_id,
        first_night=night(1),
        last_night=night(2),
        capacity=5,
        context=CommandContext(cause=cause),
    )

    hold(first=1, nights=2, quantity=5)
    with pytest.raises(NoCapacity) as refused:
        hold(first=0, quantity=3)
    assert refused.value.remaining == 2
    with pytest.raises(NoCapacity):
        hold(first=3, quantity=3)


def test_a_capacity_change_is_recorded_on_the_pool(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    result = app.catalogue.change_capacity(
        pool_id=pool_id,
        first_night=night(0),
        last_night=night(1),
        capacity=7,
        context=CommandContext(cause=cause),
    )

    assert result.id == pool_id
    assert result.version == 2
    assert app.catalogue.pool(pool_id).capacity == 2  # the default for nights not yet changed
    assert [app.catalogue.night_inventory(pool_id, night(n)).capacity for n in (0, 1)] == [7, 7]  # type: ignore[union-attr]


@pytest.mark.parametrize("capacity", [-1, 1_000_001])
def test_a_capacity_out_of_range_is_invalid_and_stores_nothing(
    app: Reservations, cause: Cause, pool_id: UUID, capacity: int
) -> None:
    before = store_size(app)

    with pytest.raises(InvalidCapacity):
        app.catalogue.change_capacity(
            pool_id=pool_id,
            first_night=night(0),
            last_night=night(1),
            capacity=capacity,
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == before


def test_a_capacity_change_with_its_nights_in_the_wrong_order_is_refused(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    before = store_size(app)

    with pytest.raises(DatesOutOfOrder):
        app.catalogue.change_capacity(
            pool_id=pool_id,
            first_night=night(2),
            last_night=night(1),
            capacity=3,
            context=CommandContext(cause=cause),
        )

    assert store_size(app) == before


def test_a_busy_night_reloads_from_its_snapshot_with_the_same_allocations(
    app: Reservations, clock: Clock, cause: Cause, pool_id: UUID, hold: HoldFn
) -> None:
    app.catalogue.change_capacity(
        pool_id=pool_id,
        first_night=night(0),
        last_night=night(0),
        capacity=100,
        context=CommandContext(cause=cause),
    )
    for _ in range(NIGHT_SNAPSHOT_INTERVAL // 2):  # two events each
        booking_id = hold().id
        app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause))
    kept = [hold().id for _ in range(3)]
    app.bookings.confirm(booking_id=kept[0], context=CommandContext(cause=cause))
    cached = app.catalogue.night_inventory(pool_id, night(0))
    assert cached is not None
    assert cached.version > NIGHT_SNAPSHOT_INTERVAL

    snapshots = list(app.snapshots.get(cached.id)) if app.snapshots else []
    reloaded = app.repository.get(cached.id, version=cached.version)

    assert snapshots, "a night with more events than the interval is snapshotted"
    assert reloaded.allocations == cached.allocations
    assert reloaded.night == night(0)
    assert reloaded.sold(now=clock.now) == 3
    clock.advance(minutes=15)
    assert reloaded.sold(now=clock.now) == 1


def test_a_refused_command_leaves_no_trace_on_a_night_already_loaded(
    app: Reservations, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    hold(first=0, quantity=1)  # night 0 is now in the aggregate cache
    hold(first=1, quantity=2)  # night 1 is full

    with pytest.raises(NoCapacity):
        hold(first=0, nights=2, quantity=1)  # would fit night 0, not night 1

    inventory = app.catalogue.night_inventory(pool_id, night(0))
    assert inventory is not None
    assert len(inventory.allocations) == 1
    assert app.catalogue.sold(pool_id, night(0)) == 1
    hold(first=0, quantity=1)  # the one left on night 0 is still there to sell


def test_a_night_forgets_expired_holds_when_it_next_allocates(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    lapsed = hold(quantity=1).id
    clock.advance(minutes=15)
    kept = hold(quantity=1).id

    inventory = app.catalogue.night_inventory(pool_id, night(0))
    assert inventory is not None
    assert set(inventory.allocations) == {str(kept)}
    before = store_size(app)
    app.bookings.expire(booking_id=lapsed, context=CommandContext(cause=cause))
    assert store_size(app) == before + 2  # the release is still recorded, for read models
    assert app.catalogue.sold(pool_id, night(0)) == 1


def test_confirming_a_hold_its_night_already_forgot_takes_the_capacity_afresh(
    app: Reservations, clock: Clock, cause: Cause, hold: HoldFn, pool_id: UUID
) -> None:
    """Only reachable when clocks disagree: a host behind the one that forgot the hold."""
    booking_id = hold(quantity=1).id
    clock.advance(minutes=20)
    hold(quantity=1)  # forgets the first hold, expired by this host's clock
    clock.advance(minutes=-10)  # a host whose clock is 10 minutes behind

    app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=cause))

    inventory = app.catalogue.night_inventory(pool_id, night(0))
    assert inventory is not None
    assert inventory.allocations[str(booking_id)] == {"quantity": 1, "expires_at": None}
    assert app.catalogue.sold(pool_id, night(0)) == 2
