"""A plan change racing holds on real PostgreSQL: no hold commits at replaced terms.

Clients (each group with its own `Reservations`, as separate processes would)
hold stays under a plan while another changes its price. A hold and a change
of its plan take one lock, so every hold stored after the change (by position)
is at the new price, and every hold before it at the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.pricing import PlanTerms
from berth.domain.rate_plan import RatePlan
from berth.domain.stay import Stay

CAUSE = Cause(principal="test", channel="web", request_id="r", correlation_id="c")
ARRIVAL = datetime.now(UTC).date() + timedelta(days=30)
HOLDERS = 12
HOLDS_EACH = 6


@pytest.fixture(params=[False, True], ids=["one-by-one", "group-commit"])
def apps(request: pytest.FixtureRequest, db_url: str) -> Iterator[list[Reservations]]:
    """Processes racing, each saving its commands one by one, or in group commits."""
    opened = [open_reservations(db_url, group_commit=request.param) for _ in range(4)]
    yield opened
    for app in opened:
        app.close()


def test_no_hold_commits_at_terms_a_committed_change_replaced(apps: list[Reservations]) -> None:
    first = apps[0]
    facility = first.catalogue.register_facility(
        name="F", time_zone="UTC", context=CommandContext(cause=CAUSE)
    )
    pool_id = first.catalogue.add_pool(
        facility_id=facility.id, name="P", capacity=1000, nightly_price=1, currency="EUR",
        context=CommandContext(cause=CAUSE),
    ).id  # fmt: skip
    first.pricing.create_rate_plan(
        pool_id=pool_id,
        code="p",
        name="P",
        terms=PlanTerms(base_price=1000),
        context=CommandContext(cause=CAUSE),
    )
    start = threading.Barrier(HOLDERS + 1)
    held: list[UUID] = []
    errors: list[Exception] = []

    def holder(n: int) -> None:
        app = apps[n % len(apps)]
        start.wait()
        for k in range(HOLDS_EACH):
            arrival = ARRIVAL + timedelta(days=(n * HOLDS_EACH + k) % 20)
            try:
                result = app.bookings.hold(
                    pool_id=pool_id, stay=Stay(arrival, arrival + timedelta(days=2)), quantity=1,
                    guest={"given_name": "G"}, rate_plan="p", context=CommandContext(cause=CAUSE),
                )  # fmt: skip
            except Exception as error:  # classified below
                errors.append(error)
            else:
                held.append(result.id)

    def changer() -> None:
        app = apps[-1]
        start.wait()
        for price in (2000, 3000, 4000):
            app.pricing.change_rate_plan(
                pool_id=pool_id,
                code="p",
                name="P",
                terms=PlanTerms(base_price=price),
                context=CommandContext(cause=CAUSE),
            )

    threads = [threading.Thread(target=holder, args=(n,)) for n in range(HOLDERS)]
    threads.append(threading.Thread(target=changer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    assert len(held) == HOLDERS * HOLDS_EACH
    # The price in force at each position: the plan's creation, then each change.
    in_force: list[tuple[int, int]] = []
    hold_positions: dict[UUID, int] = {}
    for notification in first.recorder.select_notifications(start=1, limit=1_000_000):
        event = first.mapper.to_domain_event(notification)
        if isinstance(event, RatePlan.Created | RatePlan.TermsChanged):
            in_force.append((notification.id, event.terms["base_price"]))
        elif isinstance(event, Booking.Held):
            hold_positions[event.originator_id] = notification.id
    assert [price for _, price in in_force] == [1000, 2000, 3000, 4000]
    for booking_id in held:
        position = hold_positions[booking_id]
        expected = [price for at, price in in_force if at < position][-1]
        booking = first.bookings.booking(booking_id)
        assert booking.night_prices == [expected, expected], (position, in_force)
        assert booking.total == 2 * expected
