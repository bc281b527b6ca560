"""The capacity rule on real PostgreSQL, under concurrent commands from many clients.

Each client has its own `Reservations` (as separate processes would: no shared
cache), so only the database decides who wins.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.commanding import TooManyConflicts
from berth.domain.inventory import NightInventory, NoCapacity
from berth.domain.locking import no_lock
from berth.domain.stay import Stay

CAUSE = Cause(principal="test", channel="web", request_id="r", correlation_id="c")
TODAY = datetime.now(UTC).date()
NIGHT = TODAY + timedelta(days=30)
CLIENTS = 32
APPS = 4  # clients share an app in groups, like threads in a few gunicorn workers


@pytest.fixture(params=[False, True], ids=["one-by-one", "group-commit"])
def apps(request: pytest.FixtureRequest, db_url: str) -> Iterator[list[Reservations]]:
    """Processes racing, each saving its commands one by one, or in group commits."""
    opened = [open_reservations(db_url, group_commit=request.param) for _ in range(APPS)]
    yield opened
    for app in opened:
        app.close()


def make_pool(app: Reservations, capacity: int) -> UUID:
    facility = app.catalogue.register_facility(
        name="P1", time_zone="UTC", context=CommandContext(cause=CAUSE)
    )
    pool = app.catalogue.add_pool(
        facility_id=facility.id,
        name="long stay",
        capacity=capacity,
        nightly_price=1000,
        currency="EUR",
        context=CommandContext(cause=CAUSE),
    )
    return pool.id


def race(apps: list[Reservations], attempt: Callable[[Reservations, int], UUID]) -> list[object]:
    """Run `attempt` from CLIENTS threads released at once; collect ids or errors."""
    barrier = threading.Barrier(CLIENTS)
    outcomes: list[object] = [None] * CLIENTS

    def client(n: int) -> None:
        app = apps[n % len(apps)]
        barrier.wait()
        try:
            outcomes[n] = attempt(app, n)
        except Exception as error:  # the test classifies every outcome
            outcomes[n] = error

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def stored_events(app: Reservations) -> list[object]:
    return [
        app.mapper.to_domain_event(n)
        for n in app.recorder.select_notifications(start=1, limit=1_000_000)
    ]


def assert_nothing_half_written(app: Reservations, winners: set[UUID], pool_id: UUID) -> None:
    """The store holds the winners' bookings, each with one allocation per night, and no more."""
    events = stored_events(app)
    held = {e.originator_id for e in events if isinstance(e, Booking.Held)}
    assert held == winners
    allocations = Counter(e.booking_id for e in events if isinstance(e, NightInventory.Allocated))
    for booking_id in winners:
        assert allocations[booking_id] == app.bookings.booking(booking_id).stay.nights
    assert set(allocations) == winners


def test_32_clients_racing_for_the_last_5_units_exactly_5_win(apps: list[Reservations]) -> None:
    app = apps[0]
    pool_id = make_pool(app, capacity=10)
    for _ in range(5):
        app.bookings.hold(
            pool_id=pool_id,
            stay=Stay(NIGHT, NIGHT + timedelta(days=1)),
            quantity=1,
            guest={"name": "early"},
            context=CommandContext(cause=CAUSE),
        )
    early = {e.originator_id for e in stored_events(app) if isinstance(e, Booking.Held)}

    outcomes = race(
        apps,
        lambda client, n: (
            client.bookings.hold(
                pool_id=pool_id,
                stay=Stay(NIGHT, NIGHT + timedelta(days=1)),
                quantity=1,
                guest={"name": f"guest {n}"},
                context=CommandContext(cause=CAUSE),
            ).id
        ),
    )

    winners = {o for o in outcomes if isinstance(o, UUID)}
    losers = [o for o in outcomes if not isinstance(o, UUID)]
    assert len(winners) == 5
    assert len(losers) == CLIENTS - 5
    assert all(isinstance(o, NoCapacity) for o in losers), losers
    assert app.catalogue.sold(pool_id, NIGHT) == 10
    assert_nothing_half_written(app, winners | early, pool_id)


def test_overlapping_multi_night_stays_never_oversell_any_night(apps: list[Reservations]) -> None:
    app = apps[0]
    capacity = 3
    pool_id = make_pool(app, capacity=capacity)
    rng = random.Random(7)
    stays = []
    for _ in range(CLIENTS):
        first = NIGHT + timedelta(days=rng.randrange(4))
        stays.append(Stay(first, first + timedelta(days=rng.randint(1, 3))))

    outcomes = race(
        apps,
        lambda client, n: (
            client.bookings.hold(
                pool_id=pool_id,
                stay=stays[n],
                quantity=1,
                guest={"name": f"g{n}"},
                context=CommandContext(cause=CAUSE),
            ).id
        ),
    )

    winners = {o for o in outcomes if isinstance(o, UUID)}
    assert all(isinstance(o, (UUID, NoCapacity)) for o in outcomes), outcomes
    nights: Counter[date] = Counter()
    for n, outcome in enumerate(outcomes):
        if isinstance(outcome, UUID):
            nights.update(stays[n].days())
    assert max(nights.values()) <= capacity
    for night, sold in nights.items():
        assert app.catalogue.sold(pool_id, night) == sold
    # The race really was contended: some stays lost to capacity.
    assert len(winners) < CLIENTS
    assert_nothing_half_written(app, winners, pool_id)


def test_without_the_advisory_lock_optimistic_concurrency_alone_keeps_capacity(
    db_url: str,
) -> None:
    plain = [open_reservations(db_url) for _ in range(APPS)]
    for app in plain:
        app.night_lock = no_lock
    try:
        pool_id = make_pool(plain[0], capacity=5)
        outcomes = race(
            plain,
            lambda client, n: (
                client.bookings.hold(
                    pool_id=pool_id,
                    stay=Stay(NIGHT, NIGHT + timedelta(days=2)),
                    quantity=1,
                    guest={"name": f"g{n}"},
                    context=CommandContext(cause=CAUSE),
                ).id
            ),
        )
        winners = {o for o in outcomes if isinstance(o, UUID)}
        assert all(isinstance(o, (UUID, NoCapacity, TooManyConflicts)) for o in outcomes)
        assert 1 <= len(winners) <= 5
        assert plain[0].catalogue.sold(pool_id, NIGHT) == len(winners)
        assert_nothing_half_written(plain[0], winners, pool_id)
    finally:
        for app in plain:
            app.close()
