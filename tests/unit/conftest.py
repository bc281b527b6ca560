"""Unit-test fixtures: a controllable clock and a `Reservations` app in memory.

The app runs on eventsourcing's POPO (plain old Python objects) persistence,
named explicitly so that a ``PERSISTENCE_MODULE`` in the environment cannot
send a unit test to a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.cancellation import CancellationPolicy
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandResult

from .support import IN_MEMORY, START, Clock, HoldFn, stay


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def cause() -> Cause:
    return Cause(
        principal="api-key:web-1",
        channel="brand-site",
        request_id="req-1",
        correlation_id="corr-1",
    )


@pytest.fixture
def app(clock: Clock) -> Reservations:
    return Reservations(IN_MEMORY, clock=clock)


@pytest.fixture
def facility_id(app: Reservations, cause: Cause) -> UUID:
    return app.catalogue.register_facility(
        name="Harbour car park", time_zone="Europe/London", context=CommandContext(cause=cause)
    ).id


@dataclass
class PoolFactory:
    app: Reservations
    facility_id: UUID
    cause: Cause

    def __call__(
        self,
        *,
        capacity: int = 2,
        nightly_price: int = 1000,
        currency: str = "EUR",
        cancellation: CancellationPolicy | None = None,
    ) -> UUID:
        return self.app.catalogue.add_pool(
            facility_id=self.facility_id,
            name="Long stay",
            capacity=capacity,
            nightly_price=nightly_price,
            currency=currency,
            cancellation=cancellation,
            context=CommandContext(cause=self.cause),
        ).id


@pytest.fixture
def make_pool(app: Reservations, facility_id: UUID, cause: Cause) -> PoolFactory:
    return PoolFactory(app, facility_id, cause)


@pytest.fixture
def pool_id(make_pool: PoolFactory) -> UUID:
    """A pool of 2 spaces at 10.00 EUR a night, with the default cancellation policy."""
    return make_pool()


@pytest.fixture
def hold(app: Reservations, pool_id: UUID, cause: Cause) -> HoldFn:
    """Hold in the default pool: `hold(first=0, nights=1, quantity=1, **more)`."""

    def _hold(first: int = 0, nights: int = 1, quantity: int = 1, **more: object) -> CommandResult:
        who = more.pop("cause", cause)
        options: dict[str, object] = {"pool_id": pool_id, "guest": {"name": "Ada"}}
        options["context"] = CommandContext(cause=who)  # type: ignore[arg-type]
        options.update(more)
        return app.bookings.hold(stay=stay(first, nights), quantity=quantity, **options)  # type: ignore[arg-type]

    return _hold
