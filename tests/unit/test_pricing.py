"""Pricing a stay under a rate plan, and the rate-plan commands (in memory)."""

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest

from berth.domain.application import Reservations
from berth.domain.bounds import (
    MAX_MONEY,
    AmountOutOfRange,
    DateOutOfRange,
    InvalidText,
    MoneyLimitExceeded,
)
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.commanding import StaleVersion
from berth.domain.pool import MAX_RATE_PLANS, TooManyRatePlans
from berth.domain.pricing import (
    ChannelNotAllowed,
    ClosedToArrival,
    InvalidRatePlan,
    MaximumStayExceeded,
    MinimumStayNotMet,
    PlanTerms,
    Season,
    price_stay,
)
from berth.domain.quote import quote
from berth.domain.rate_plan import RatePlanRetired, rate_plan_id
from berth.domain.rate_plan_commands import PriceChanged, RatePlanExists, UnknownRatePlan
from berth.domain.stay import Stay

from .support import night

SAT = date(2030, 6, 1)
SUMMER = PlanTerms(
    base_price=1000,
    seasons=(
        Season(first_night=date(2030, 6, 5), last_night=date(2030, 6, 30), nightly_price=2000),
    ),
    weekday_prices={"sat": 1500},
    min_stay=2,
    max_stay=14,
    closed_to_arrival_weekdays=frozenset({"sun"}),
    closed_to_arrival_dates=frozenset({date(2030, 6, 10)}),
    channels=frozenset({"brand-site"}),
)


def week(arrival: date = SAT, nights: int = 7) -> Stay:
    return Stay(arrival, arrival + timedelta(days=nights))


def test_a_night_costs_its_seasons_price_else_its_weekdays_else_the_base() -> None:
    priced = price_stay(terms=SUMMER, stay=week(), quantity=2, channel="brand-site")
    assert priced.night_prices == (1500, 1000, 1000, 1000, 2000, 2000, 2000)
    assert priced.total == 2 * 10500
    assert priced.breakdown()[0] == {"night": SAT, "price": 1500}


@pytest.mark.parametrize(
    ("stay", "channel", "refusal"),
    [
        (week(nights=1), "brand-site", MinimumStayNotMet),
        (week(nights=15), "brand-site", MaximumStayExceeded),
        (week(SAT + timedelta(days=1)), "brand-site", ClosedToArrival),
        (week(date(2030, 6, 10), 3), "brand-site", ClosedToArrival),
        (week(), "reseller", ChannelNotAllowed),
    ],
)
def test_a_stay_the_plan_does_not_sell_is_refused_by_name(
    stay: Stay, channel: str, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        price_stay(terms=SUMMER, stay=stay, quantity=1, channel=channel)


def test_a_plan_listing_no_channel_sells_to_every_channel() -> None:
    terms = PlanTerms(base_price=1)
    assert price_stay(terms=terms, stay=week(), quantity=1, channel="anyone").total == 7


def test_a_total_above_the_money_bound_is_refused() -> None:
    terms = PlanTerms(base_price=MAX_MONEY)
    with pytest.raises(MoneyLimitExceeded):
        price_stay(terms=terms, stay=week(nights=2), quantity=1, channel="x")


@pytest.mark.parametrize(
    "make",
    [
        lambda: PlanTerms(base_price=-1),
        lambda: PlanTerms(base_price=MAX_MONEY + 1),
        lambda: PlanTerms(base_price=1, weekday_prices={"sat": MAX_MONEY + 1}),
        lambda: PlanTerms(base_price=1, min_stay=0),
        lambda: PlanTerms(base_price=1, min_stay=3, max_stay=2),
        lambda: PlanTerms(base_price=1, max_stay=367),
        lambda: PlanTerms(base_price=1, weekday_prices={"funday": 1}),
        lambda: PlanTerms(base_price=1, closed_to_arrival_weekdays=frozenset({"x"})),
        lambda: PlanTerms(base_price=1, channels=frozenset({""})),
        lambda: PlanTerms(base_price=1, channels=frozenset({"a\x00"})),
        lambda: PlanTerms(base_price=1, closed_to_arrival_dates=frozenset({date(1999, 1, 1)})),
        lambda: PlanTerms(
            base_price=1,
            seasons=(
                Season(first_night=SAT, last_night=SAT + timedelta(days=3), nightly_price=1),
                Season(
                    first_night=SAT + timedelta(days=3),
                    last_night=SAT + timedelta(9),
                    nightly_price=1,
                ),
            ),
        ),
    ],
)
def test_terms_outside_the_bounds_are_refused(make: Callable[[], PlanTerms]) -> None:
    with pytest.raises((InvalidRatePlan, AmountOutOfRange, DateOutOfRange, InvalidText)):
        make()


def test_terms_survive_the_round_trip_through_an_event() -> None:
    assert PlanTerms.from_dict(SUMMER.as_dict()) == SUMMER


def test_a_quote_is_refused_for_want_of_capacity_on_any_night() -> None:
    found = quote(
        terms=SUMMER, stay=week(), quantity=2, channel="brand-site", remaining=[5, 5, 1, 5, 5, 5, 5]
    )
    assert not found.sellable and found.reason == "no-capacity"
    found = quote(terms=SUMMER, stay=week(), quantity=2, channel="brand-site", remaining=[2] * 7)
    assert found.priced is not None and found.priced.total == 21000


# -- commands ------------------------------------------------------------------------


def plan(app: Reservations, pool_id: UUID, cause: Cause, terms: PlanTerms = SUMMER) -> int:
    return app.pricing.create_rate_plan(
        pool_id=pool_id,
        code="summer",
        name="Summer",
        terms=terms,
        context=CommandContext(cause=cause),
    ).version


def test_a_hold_under_a_plan_keeps_its_breakdown_through_any_later_change(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    plan(app, pool_id, cause)
    held = app.bookings.hold(
        pool_id=pool_id,
        stay=week(),
        quantity=1,
        guest={"given_name": "Ada"},
        rate_plan="summer",
        context=CommandContext(cause=cause),
    )
    app.pricing.change_rate_plan(
        pool_id=pool_id,
        code="summer",
        name="Dearer",
        terms=PlanTerms(base_price=9999),
        context=CommandContext(cause=cause, expected_version=1),
    )
    booking = app.bookings.booking(held.id)
    assert booking.rate_plan == "summer"
    assert booking.night_prices == [1500, 1000, 1000, 1000, 2000, 2000, 2000]
    assert booking.total == 10500


def test_a_hold_at_a_stale_quoted_total_is_refused_unless_accepted(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    plan(app, pool_id, cause)
    guest = {"given_name": "Ada"}
    with pytest.raises(PriceChanged) as refused:
        app.bookings.hold(
            pool_id=pool_id,
            stay=week(),
            quantity=1,
            guest=guest,
            rate_plan="summer",
            quoted_total=10000,
            context=CommandContext(cause=cause),
        )
    assert refused.value.total == 10500
    assert refused.value.problem_extensions()["quoted_total"] == 10000
    held = app.bookings.hold(
        pool_id=pool_id,
        stay=week(),
        quantity=1,
        guest=guest,
        rate_plan="summer",
        quoted_total=10000,
        accept_price_change=True,
        context=CommandContext(cause=cause),
    )
    assert app.bookings.booking(held.id).total == 10500


def test_plan_commands_refuse_what_they_cannot_do(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    plan(app, pool_id, cause)
    with pytest.raises(RatePlanExists):
        plan(app, pool_id, cause)
    with pytest.raises(InvalidRatePlan):
        app.pricing.create_rate_plan(
            pool_id=pool_id,
            code="default",
            name="x",
            terms=SUMMER,
            context=CommandContext(cause=cause),
        )
    with pytest.raises(UnknownRatePlan):
        app.pricing.retire_rate_plan(
            pool_id=pool_id, code="nope", context=CommandContext(cause=cause)
        )
    with pytest.raises(StaleVersion):
        app.pricing.retire_rate_plan(
            pool_id=pool_id, code="summer", context=CommandContext(cause=cause, expected_version=5)
        )
    app.pricing.retire_rate_plan(
        pool_id=pool_id, code="summer", context=CommandContext(cause=cause)
    )
    with pytest.raises(RatePlanRetired):
        app.bookings.hold(
            pool_id=pool_id,
            stay=week(),
            quantity=1,
            guest={"given_name": "A"},
            rate_plan="summer",
            context=CommandContext(cause=cause),
        )
    with pytest.raises(RatePlanRetired):
        app.pricing.change_rate_plan(
            pool_id=pool_id,
            code="summer",
            name="x",
            terms=SUMMER,
            context=CommandContext(cause=cause),
        )


def test_an_amendment_prices_only_the_nights_it_adds(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    plan(app, pool_id, cause, PlanTerms(base_price=1000))
    held = app.bookings.hold(
        pool_id=pool_id,
        stay=Stay(night(0), night(2)),
        quantity=1,
        guest={"given_name": "A"},
        rate_plan="summer",
        context=CommandContext(cause=cause),
    )
    app.pricing.change_rate_plan(
        pool_id=pool_id,
        code="summer",
        name="x",
        terms=PlanTerms(base_price=3000),
        context=CommandContext(cause=cause),
    )
    app.bookings.amend(
        booking_id=held.id,
        arrival=night(1),
        departure=night(4),
        quantity=2,
        context=CommandContext(cause=cause),
    )
    booking = app.bookings.booking(held.id)
    assert booking.night_prices == [1000, 3000, 3000]
    assert booking.total == 2 * 7000


def test_a_pool_has_at_most_its_bound_of_rate_plans(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    for n in range(MAX_RATE_PLANS):
        app.pricing.create_rate_plan(
            pool_id=pool_id,
            code=f"p{n}",
            name="P",
            terms=SUMMER,
            context=CommandContext(cause=cause),
        )
    with pytest.raises(TooManyRatePlans):
        app.pricing.create_rate_plan(
            pool_id=pool_id,
            code="one-more",
            name="P",
            terms=SUMMER,
            context=CommandContext(cause=cause),
        )
    assert not app.exists(rate_plan_id(pool_id, "one-more"))
