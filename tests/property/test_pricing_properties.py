"""Pricing properties: a breakdown sums to its total, and no plan change reaches a booking.

The first property checks `price_stay` against a model of the rule (season,
else day of the week, else base) over generated plans and stays. The state
machine then holds, amends and reprices bookings under generated plan changes
(in memory) and checks after every step that each booking's total is its
nightly breakdown times its quantity, and that a booking's nights keep the
price they were sold at until the booking itself changes them.
"""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from berth.domain.application import Reservations
from berth.domain.bounds import MAX_MONEY, MoneyLimitExceeded
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.inventory import NoCapacity
from berth.domain.pricing import WEEKDAYS, NotSellable, PlanTerms, Season, price_stay
from berth.domain.stay import Stay

START = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
TODAY = START.date()
CAUSE = Cause(principal="hypothesis", channel="web", request_id="r", correlation_id="c")

prices = st.integers(0, 100_000)


@st.composite
def seasons(draw: st.DrawFn) -> tuple[Season, ...]:
    """Up to 4 seasons that do not overlap, within the first 60 days."""
    cuts = sorted(draw(st.sets(st.integers(0, 60), max_size=8)))
    found = []
    for first, last in zip(cuts[::2], cuts[1::2], strict=False):
        found.append(
            Season(
                first_night=TODAY + timedelta(days=first),
                last_night=TODAY + timedelta(days=last - 1 if last > first else first),
                nightly_price=draw(prices),
            )
        )
    return tuple(found)


@st.composite
def plans(draw: st.DrawFn) -> PlanTerms:
    min_stay = draw(st.integers(1, 4))
    return PlanTerms(
        base_price=draw(prices),
        seasons=draw(seasons()),
        weekday_prices=draw(st.dictionaries(st.sampled_from(WEEKDAYS), prices, max_size=7)),
        min_stay=min_stay,
        max_stay=draw(st.integers(min_stay, 30)),
        closed_to_arrival_weekdays=frozenset(draw(st.sets(st.sampled_from(WEEKDAYS), max_size=2))),
        channels=frozenset(draw(st.sets(st.sampled_from(["web", "reseller"]), max_size=2))),
    )


def model_price(terms: PlanTerms, night: date) -> int:
    for season in terms.seasons:
        if season.first_night <= night <= season.last_night:
            return season.nightly_price
    return terms.weekday_prices.get(WEEKDAYS[night.weekday()], terms.base_price)


@settings(max_examples=300)
@given(
    terms=plans(),
    arrival=st.integers(0, 50),
    nights=st.integers(1, 30),
    quantity=st.integers(1, 1000),
    channel=st.sampled_from(["web", "reseller"]),
)
def test_a_priced_stay_is_its_nights_times_its_quantity(
    terms: PlanTerms, arrival: int, nights: int, quantity: int, channel: str
) -> None:
    stay = Stay(TODAY + timedelta(days=arrival), TODAY + timedelta(days=arrival + nights))
    try:
        priced = price_stay(terms=terms, stay=stay, quantity=quantity, channel=channel)
    except NotSellable:
        sellable = (
            terms.sells_to(channel)
            and terms.min_stay <= nights <= terms.max_stay
            and not terms.closed_to_arrival_on(stay.arrival)
        )
        assert not sellable
        return
    assert list(priced.night_prices) == [model_price(terms, n) for n in stay.days()]
    assert priced.total == sum(priced.night_prices) * quantity
    assert sum(n["price"] for n in priced.breakdown()) * quantity == priced.total
    assert priced.total <= MAX_MONEY


class Repricing(RuleBasedStateMachine):
    """Holds and amendments under a plan whose terms change at any time."""

    bookings = Bundle("bookings")

    @initialize(terms=plans())
    def open(self, terms: PlanTerms) -> None:
        self.app = Reservations({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: START)
        facility = self.app.catalogue.register_facility(
            name="F", time_zone="UTC", context=CommandContext(cause=CAUSE)
        ).id
        self.pool_id = self.app.catalogue.add_pool(
            facility_id=facility,
            name="P",
            capacity=1000,
            nightly_price=1000,
            currency="EUR",
            context=CommandContext(cause=CAUSE),
        ).id
        self.app.pricing.create_rate_plan(
            pool_id=self.pool_id,
            code="plan",
            name="Plan",
            terms=terms,
            context=CommandContext(cause=CAUSE),
        )
        self.agreed: dict[UUID, dict[date, int]] = {}

    @rule(target=bookings, arrival=st.integers(0, 40), nights=st.integers(1, 10))
    def hold(self, arrival: int, nights: int) -> UUID | None:
        stay = Stay(TODAY + timedelta(days=arrival), TODAY + timedelta(days=arrival + nights))
        try:
            held = self.app.bookings.hold(
                pool_id=self.pool_id,
                stay=stay,
                quantity=1,
                guest={"given_name": "G"},
                rate_plan="plan",
                context=CommandContext(cause=CAUSE),
            )
        except (NotSellable, NoCapacity, MoneyLimitExceeded):
            return None
        booking = self.app.bookings.booking(held.id)
        self.agreed[held.id] = dict(zip(stay.days(), booking.night_prices, strict=True))
        return held.id

    @rule(terms=plans())
    def change_plan(self, terms: PlanTerms) -> None:
        self.app.pricing.change_rate_plan(
            pool_id=self.pool_id,
            code="plan",
            name="Plan",
            terms=terms,
            context=CommandContext(cause=CAUSE),
        )

    @rule(booking_id=bookings, shift=st.integers(-3, 3), quantity=st.integers(1, 5))
    def amend(self, booking_id: UUID | None, shift: int, quantity: int) -> None:
        if booking_id is None:
            return
        booking = self.app.bookings.booking(booking_id)
        departure = booking.departure + timedelta(days=shift)
        if departure <= booking.arrival:
            return
        try:
            self.app.bookings.amend(
                booking_id=booking_id,
                departure=departure,
                quantity=quantity,
                context=CommandContext(cause=CAUSE),
            )
        except (NoCapacity, MoneyLimitExceeded):
            return
        after = self.app.bookings.booking(booking_id)
        before = self.agreed[booking_id]
        for night, price in zip(after.stay.days(), after.night_prices, strict=True):
            if night in before:
                assert price == before[night], "an amendment repriced a night already agreed"
        self.agreed[booking_id] = dict(zip(after.stay.days(), after.night_prices, strict=True))

    @invariant()
    def every_total_is_its_breakdown_and_agreed_prices_hold(self) -> None:
        for booking_id, agreed in getattr(self, "agreed", {}).items():
            booking = self.app.bookings.booking(booking_id)
            assert booking.total == sum(booking.night_prices) * booking.quantity
            assert dict(zip(booking.stay.days(), booking.night_prices, strict=True)) == agreed


Repricing.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
test_repricing = Repricing.TestCase
