"""Rate-plan terms and the pure pricing of a stay under them.

A plan prices each night by the first that applies of: the season covering it,
the price for its day of the week, the base price. It may be sold only for
stays of `min_stay` to `max_stay` nights, not arriving on a closed-to-arrival
weekday or date, and only by the channels it lists (none listed: every
channel). `price_stay` answers the per-night breakdown or raises the named
reason the stay cannot be sold; it reads no clock and no store.

The pool's own nightly price is the plan `default` (`default_terms`): every
channel, any length of stay, every arrival day, so a client that names no plan
buys what it bought before plans existed.
"""

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from berth.domain.bounds import check_date, check_money, check_money_sum, check_text
from berth.domain.error import DomainError, InvalidCommand
from berth.domain.stay import MAX_NIGHTS, Stay

DEFAULT_PLAN = "default"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SEASONS = 100
MAX_CHANNELS = 50
MAX_CLOSED_DATES = 366
MAX_CODE = 64
MAX_CHANNEL = 100


class InvalidRatePlan(InvalidCommand):
    code = "invalid-rate-plan"


class NotSellable(DomainError):
    """The stay cannot be sold under the plan (HTTP 409 on a hold, a reason on a quote)."""


class MinimumStayNotMet(NotSellable):
    code = "minimum-stay"


class MaximumStayExceeded(NotSellable):
    code = "maximum-stay"


class ClosedToArrival(NotSellable):
    code = "closed-to-arrival"


class ChannelNotAllowed(NotSellable):
    code = "channel-not-allowed"


@dataclass(frozen=True, kw_only=True)
class Season:
    """`nightly_price` for the nights `first_night` to `last_night` inclusive."""

    first_night: date
    last_night: date
    nightly_price: int

    def covers(self, night: date) -> bool:
        return self.first_night <= night <= self.last_night


def check_code(code: str) -> str:
    """A plan's code: chosen by the operator, unique per pool, letters, digits, `-` and `_`."""
    check_text(code, what="a rate plan code", maximum=MAX_CODE)
    if not code or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        raise InvalidRatePlan(f"a rate plan code is 1 to {MAX_CODE} of a-z, 0-9, - and _")
    return code


@dataclass(frozen=True, kw_only=True)
class PlanTerms:
    base_price: int
    seasons: tuple[Season, ...] = ()
    weekday_prices: Mapping[str, int] = field(default_factory=dict)
    min_stay: int = 1
    max_stay: int = MAX_NIGHTS
    closed_to_arrival_weekdays: frozenset[str] = frozenset()
    closed_to_arrival_dates: frozenset[date] = frozenset()
    channels: frozenset[str] = frozenset()  # empty: every channel

    def __post_init__(self) -> None:
        check_money(self.base_price, what="a base price")
        if len(self.seasons) > MAX_SEASONS:
            raise InvalidRatePlan(f"a plan has at most {MAX_SEASONS} seasons")
        ordered = sorted(self.seasons, key=lambda s: s.first_night)
        for season in ordered:
            check_date(season.first_night)
            check_date(season.last_night)
            check_money(season.nightly_price, what="a season's price")
            if season.last_night < season.first_night:
                raise InvalidRatePlan(f"a season ends before it starts: {season.first_night}")
        for before, after in itertools.pairwise(ordered):
            if after.first_night <= before.last_night:
                raise InvalidRatePlan(
                    f"seasons overlap: {before.first_night} to {before.last_night}"
                    f" and {after.first_night} to {after.last_night}"
                )
        for day, price in self.weekday_prices.items():
            if day not in WEEKDAYS:
                raise InvalidRatePlan(f"a day of the week is one of {', '.join(WEEKDAYS)}")
            check_money(price, what="a day-of-week price")
        if not 1 <= self.min_stay <= self.max_stay <= MAX_NIGHTS:
            raise InvalidRatePlan(
                f"stays are 1 <= min_stay <= max_stay <= {MAX_NIGHTS} nights,"
                f" got {self.min_stay} and {self.max_stay}"
            )
        if not self.closed_to_arrival_weekdays <= set(WEEKDAYS):
            raise InvalidRatePlan(f"a day of the week is one of {', '.join(WEEKDAYS)}")
        if len(self.closed_to_arrival_dates) > MAX_CLOSED_DATES:
            raise InvalidRatePlan(f"at most {MAX_CLOSED_DATES} closed-to-arrival dates")
        for closed in self.closed_to_arrival_dates:
            check_date(closed)
        if len(self.channels) > MAX_CHANNELS:
            raise InvalidRatePlan(f"a plan lists at most {MAX_CHANNELS} channels")
        for channel in self.channels:
            check_text(channel, what="a channel", maximum=MAX_CHANNEL)
            if not channel:
                raise InvalidRatePlan("a channel is not empty")

    def nightly(self, night: date) -> int:
        """The price of one unit for `night`."""
        for season in self.seasons:
            if season.covers(night):
                return season.nightly_price
        return self.weekday_prices.get(WEEKDAYS[night.weekday()], self.base_price)

    def closed_to_arrival_on(self, day: date) -> bool:
        return (
            day in self.closed_to_arrival_dates
            or WEEKDAYS[day.weekday()] in self.closed_to_arrival_weekdays
        )

    def sells_to(self, channel: str) -> bool:
        return not self.channels or channel in self.channels

    def as_dict(self) -> dict[str, Any]:
        """The terms as an event carries them and the read model stores them (plain JSON)."""
        return {
            "base_price": self.base_price,
            "seasons": [
                {
                    "first_night": s.first_night.isoformat(),
                    "last_night": s.last_night.isoformat(),
                    "nightly_price": s.nightly_price,
                }
                for s in sorted(self.seasons, key=lambda s: s.first_night)
            ],
            "weekday_prices": {
                d: self.weekday_prices[d] for d in WEEKDAYS if d in self.weekday_prices
            },
            "min_stay": self.min_stay,
            "max_stay": self.max_stay,
            "closed_to_arrival_weekdays": [
                d for d in WEEKDAYS if d in self.closed_to_arrival_weekdays
            ],
            "closed_to_arrival_dates": [
                d.isoformat() for d in sorted(self.closed_to_arrival_dates)
            ],
            "channels": sorted(self.channels),
        }

    @classmethod
    def from_dict(cls, terms: Mapping[str, Any]) -> "PlanTerms":
        """The terms from `as_dict`'s shape (dates as `date` or ISO strings)."""
        return cls(
            base_price=terms["base_price"],
            seasons=tuple(
                Season(
                    first_night=_day(s["first_night"]),
                    last_night=_day(s["last_night"]),
                    nightly_price=s["nightly_price"],
                )
                for s in terms.get("seasons", ())
            ),
            weekday_prices=dict(terms.get("weekday_prices", {})),
            min_stay=terms.get("min_stay", 1),
            max_stay=terms.get("max_stay", MAX_NIGHTS),
            closed_to_arrival_weekdays=frozenset(terms.get("closed_to_arrival_weekdays", ())),
            closed_to_arrival_dates=frozenset(
                _day(d) for d in terms.get("closed_to_arrival_dates", ())
            ),
            channels=frozenset(terms.get("channels", ())),
        )


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def default_terms(nightly_price: int) -> PlanTerms:
    """The plan `default`: the pool's nightly price, no restriction."""
    return PlanTerms(base_price=nightly_price)


@dataclass(frozen=True)
class PricedStay:
    """What a stay costs: each night's price for one unit, and the quantity."""

    stay: Stay
    night_prices: tuple[int, ...]
    quantity: int

    @property
    def total(self) -> int:
        return sum(self.night_prices) * self.quantity

    def breakdown(self) -> list[dict[str, Any]]:
        return [
            {"night": night, "price": price}
            for night, price in zip(self.stay.days(), self.night_prices, strict=True)
        ]


def price_stay(*, terms: PlanTerms, stay: Stay, quantity: int, channel: str) -> PricedStay:
    """The stay priced under `terms` for `channel`, or the NotSellable reason it is not."""
    if not terms.sells_to(channel):
        raise ChannelNotAllowed(f"the channel {channel!r} may not sell this rate plan")
    if stay.nights < terms.min_stay:
        raise MinimumStayNotMet(f"this rate plan needs a stay of at least {terms.min_stay} nights")
    if stay.nights > terms.max_stay:
        raise MaximumStayExceeded(f"this rate plan sells stays of at most {terms.max_stay} nights")
    if terms.closed_to_arrival_on(stay.arrival):
        raise ClosedToArrival(f"this rate plan is closed to arrival on {stay.arrival}")
    priced = PricedStay(stay, tuple(terms.nightly(n) for n in stay.days()), quantity)
    check_money_sum(priced.total, what="the booking's total")
    return priced


def night_prices_for(
    *,
    nights: Sequence[date],
    agreed: Mapping[date, int],
    terms: PlanTerms | None,
    fallback: int,
) -> list[int]:
    """Prices of `nights`: agreed ones keep their price, others priced by `terms` (or `fallback`).

    An amendment keeps the price of every night the booking already had and
    prices only the nights it adds.
    """
    return [agreed[n] if n in agreed else (terms.nightly(n) if terms else fallback) for n in nights]
