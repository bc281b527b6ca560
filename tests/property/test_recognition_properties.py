"""The recognition rule (`berth.domain.recognition`) over any breakdown and any closing order.

A booking sold night by night earns, for the nights closed so far, exactly what
those nights were sold at times the quantity, whatever order they close in, and
its total once all are closed; a booking without a breakdown earns total * k // n;
a flat breakdown (every booking sold before rate plans) earns what the even
split did; the night audit's preview share of each night, in order, is the same.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from berth.domain.booking import stay_total
from berth.domain.bounds import MAX_MONEY, MAX_QUANTITY
from berth.domain.recognition import night_share, recognised

quantities = st.integers(1, MAX_QUANTITY)


@st.composite
def sold(draw: st.DrawFn) -> tuple[list[int], int, list[int]]:
    """A breakdown and quantity whose total the domain accepts, and an order to close its nights."""
    quantity = draw(quantities)
    nights = draw(st.integers(1, 30))
    ceiling = MAX_MONEY // (nights * quantity)
    price = st.one_of(st.integers(0, 5000), st.integers(0, ceiling))
    prices = draw(st.lists(price, min_size=nights, max_size=nights))
    order = draw(st.permutations(list(range(nights))))
    return prices, quantity, order


@given(sold())
def test_the_closed_nights_earn_what_they_were_sold_at_in_any_order(
    case: tuple[list[int], int, list[int]],
) -> None:
    prices, quantity, order = case
    total = stay_total(night_prices=prices, quantity=quantity)
    for k in range(len(order) + 1):
        earned = recognised(
            total=total, nights=len(prices), closed=order[:k], night_prices=prices,
            quantity=quantity,
        )  # fmt: skip
        assert earned == sum(prices[i] for i in order[:k]) * quantity
    assert earned == total


@given(sold(), st.integers(0, MAX_MONEY))
def test_a_total_its_breakdown_does_not_make_is_earned_exactly_the_last_night_taking_the_rest(
    case: tuple[list[int], int, list[int]], total: int
) -> None:
    prices, quantity, order = case
    last = len(prices) - 1
    earned = 0
    for k, night in enumerate(order, start=1):
        now = recognised(
            total=total, nights=len(prices), closed=order[:k], night_prices=prices,
            quantity=quantity,
        )  # fmt: skip
        if night == last:
            assert now - earned == total - sum(prices[:last]) * quantity
        else:
            assert now - earned == prices[night] * quantity
        earned = now
    assert earned == total


@given(
    st.integers(0, MAX_MONEY),
    st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.permutations(list(range(n))))),
)
def test_without_a_breakdown_the_total_is_earned_evenly(
    total: int, case: tuple[int, list[int]]
) -> None:
    nights, order = case
    for k in range(nights + 1):
        for breakdown in (None, [1] * (nights + 1)):  # none, or not of the stay's length
            earned = recognised(
                total=total, nights=nights, closed=order[:k], night_prices=breakdown, quantity=1
            )
            assert earned == total * k // nights


@given(
    st.integers(0, 10**6), quantities, st.integers(1, 30).flatmap(
        lambda n: st.tuples(st.just(n), st.permutations(list(range(n))))
    ),
)  # fmt: skip
def test_a_flat_breakdown_earns_what_the_even_split_did(
    price: int, quantity: int, case: tuple[int, list[int]]
) -> None:
    """Replays of histories from before rate plans post what they posted then."""
    nights, order = case
    total = price * nights * quantity  # the old domain's total
    for k in range(nights + 1):
        flat = recognised(
            total=total, nights=nights, closed=order[:k], night_prices=[price] * nights,
            quantity=quantity,
        )  # fmt: skip
        assert flat == total * k // nights


@given(sold(), st.booleans())
def test_the_previews_share_of_each_night_is_its_price_and_they_make_the_total(
    case: tuple[list[int], int, list[int]], breakdown: bool
) -> None:
    prices, quantity, _ = case
    total = stay_total(night_prices=prices, quantity=quantity)
    shares = [
        night_share(
            total=total,
            nights=len(prices),
            night=night,
            night_prices=prices if breakdown else None,
            quantity=quantity,
        )
        for night in range(len(prices))
    ]
    assert sum(shares) == total
    if breakdown:
        assert shares == [price * quantity for price in prices]


def test_a_weekend_night_earns_its_own_price_not_an_average() -> None:
    prices = [1000, 3000, 3000, 1000]  # Friday, Saturday, Sunday, Monday
    total = stay_total(night_prices=prices, quantity=2)
    by_night = [
        night_share(total=total, nights=4, night=n, night_prices=prices, quantity=2)
        for n in range(4)
    ]
    assert by_night == [2000, 6000, 6000, 2000]
    evenly = [night_share(total=total, nights=4, night=n, night_prices=None, quantity=2)
              for n in range(4)]  # fmt: skip
    assert evenly == [4000, 4000, 4000, 4000]
    assert recognised(total=1000, nights=3, closed=[2], night_prices=None, quantity=1) == 333
    assert recognised(total=1000, nights=3, closed=[2], night_prices=[300, 300, 300],
                      quantity=1) == 400  # fmt: skip
