"""A quote: what a stay would cost under a plan, given what is left each night, or why not.

Pure, like `price_stay`: the caller reads the plan's terms and each night's
remaining units (from read models: a quote is a promise of nothing, the hold
decides on the write side) and passes them in.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from berth.domain.inventory import NoCapacity
from berth.domain.pricing import NotSellable, PlanTerms, PricedStay, price_stay
from berth.domain.stay import Stay


@dataclass(frozen=True)
class Quote:
    """`priced` if the stay can be sold; otherwise `reason` (a problem code) and its detail."""

    stay: Stay
    quantity: int
    remaining: tuple[int, ...]
    priced: PricedStay | None = None
    reason: str | None = None
    detail: str | None = None

    @property
    def sellable(self) -> bool:
        return self.priced is not None


def quote(
    *, terms: PlanTerms, stay: Stay, quantity: int, channel: str, remaining: Sequence[int]
) -> Quote:
    left = tuple(remaining)
    try:
        priced = price_stay(terms=terms, stay=stay, quantity=quantity, channel=channel)
    except NotSellable as refusal:
        return Quote(stay, quantity, left, reason=refusal.code, detail=str(refusal))
    short = [n for n, units in zip(stay.days(), left, strict=True) if units < quantity]
    if short:
        return Quote(
            stay,
            quantity,
            left,
            reason=NoCapacity.code,
            detail=f"{quantity} units are not left on {len(short)} night(s), from {short[0]}",
        )
    return Quote(stay, quantity, left, priced=priced)
