"""How much of a booking's total its closed nights have earned: the revenue recognition rule.

One rule for the ledger's postings (`berth.projections.ledger`) and the night
audit's preview (`berth.web.pages.night_audit`). Amounts are the booking's:
integer minor units, tax included.

- A booking sold night by night (`night_prices`: one unit's price for each
  night of the stay, in the stay's order, so that `total` is their sum times
  `quantity`, see `booking.stay_total`) earns, for each closed night, that
  night's price times the quantity. The stay's last night takes whatever of the
  total the other nights leave, so its nights add up to the total exactly, in
  whatever order they are closed.
- A booking without a breakdown (an amendment recorded before rate plans, whose
  event carries none), or one whose breakdown is not of its stay's length, earns
  its total evenly: total * k // n once k of its n nights are closed, so the k-th
  closed night takes its share and the last the remainder. A flat breakdown
  whose prices make the total (every booking sold before rate plans) earns the
  same either way.
"""

from collections.abc import Iterable, Sequence


def recognised(
    *,
    total: int,
    nights: int,
    closed: Iterable[int],
    night_prices: Sequence[int] | None,
    quantity: int,
) -> int:
    """What the nights `closed` (indexes into the stay, 0 its first) have earned of `total`."""
    indexes = {i for i in closed if 0 <= i < nights}
    if night_prices is None or len(night_prices) != nights:
        return total * len(indexes) // nights if nights else 0
    last = nights - 1
    earned = sum(night_prices[i] for i in indexes if i != last) * quantity
    if last in indexes:
        earned += total - sum(night_prices[:last]) * quantity
    return earned


def night_share(
    *, total: int, nights: int, night: int, night_prices: Sequence[int] | None, quantity: int
) -> int:
    """What closing the stay's night `night` (an index) earns, the nights before it closed."""

    def through(last: int) -> int:
        return recognised(
            total=total, nights=nights, closed=range(last), night_prices=night_prices,
            quantity=quantity,
        )  # fmt: skip

    return through(night + 1) - through(night)
