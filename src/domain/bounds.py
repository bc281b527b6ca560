"""The limits of every value the domain holds, so that PostgreSQL and every projection can take it.

One place for the numbers: the inlets' field types (`berth.adapters.inputs.fields`:
HTTP schemas, Kafka gate reads, the CLI) refuse what lies outside them with a
400, and the aggregates re-check them here, so a value that slipped past an
inlet is still refused before it is stored.

- Money (integer minor units): a single amount is 0 to `MAX_MONEY`, and so is
  every sum one booking keeps (its total, what it was paid, refunded, charged
  for overstaying). 10^12 minor units is ten billion in a two-decimal
  currency, far above any stay, yet a facility's books can add nine million
  such bookings before a bigint (2^63 - 1) would overflow, and the ledger adds
  in SQL `numeric` anyway.
- Dates (stays, capacity changes, business days, query ranges): `FIRST_DATE`
  to `LAST_DATE`, so that any date plus or minus a stay, a grace period or a
  time-zone offset is still a date Python and PostgreSQL can compute.
- Quantities: 1 to `MAX_QUANTITY` units a booking, 0 to `MAX_CAPACITY` a pool
  and night, so every sum of them fits a PostgreSQL integer.
- Text: no NUL (PostgreSQL text cannot hold U+0000), no lone surrogates
  (U+D800 to U+DFFF cannot be encoded as UTF-8), no other control characters
  (tab, line feed and carriage return allowed only in multi-line free text),
  at most `MAX_TEXT` characters.
"""

import re
from datetime import date

from berth.domain.error import DomainError, InvalidCommand

MAX_MONEY = 10**12
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2199, 12, 31)
MAX_TEXT = 10_000
MAX_QUANTITY = 1000  # units in one booking
MAX_CAPACITY = 1_000_000  # units in one pool on one night
# Control characters (Unicode category Cc) and lone surrogates (Cs), with and without line breaks.
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_REFUSED_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class AmountOutOfRange(InvalidCommand):
    code = "amount-out-of-range"


class MoneyLimitExceeded(DomainError):
    """A sum a booking keeps (total, paid, charges) would pass `MAX_MONEY`: refused, not stored."""

    code = "money-limit-exceeded"


class DateOutOfRange(InvalidCommand):
    code = "date-out-of-range"


class InvalidText(InvalidCommand):
    code = "invalid-text"


def check_money(amount: int, *, what: str = "an amount") -> int:
    """`amount` if it is 0 to MAX_MONEY; AmountOutOfRange otherwise."""
    if not 0 <= amount <= MAX_MONEY:
        raise AmountOutOfRange(f"{what} is 0 to {MAX_MONEY} minor units, got {amount}")
    return amount


def check_money_sum(total: int, *, what: str) -> int:
    """`total`, a sum one booking keeps, if within MAX_MONEY; MoneyLimitExceeded otherwise."""
    if not -MAX_MONEY <= total <= MAX_MONEY:
        raise MoneyLimitExceeded(
            f"{what} would be {total} minor units; a booking keeps at most {MAX_MONEY}"
        )
    return total


def date_problem(day: date) -> str | None:
    if not FIRST_DATE <= day <= LAST_DATE:
        return f"dates are supported from {FIRST_DATE} to {LAST_DATE}, got {day}"
    return None


def check_date(day: date) -> date:
    problem = date_problem(day)
    if problem:
        raise DateOutOfRange(problem)
    return day


def storable(value: str) -> bool:
    """False if PostgreSQL cannot store `value` at all (NUL, or a lone surrogate)."""
    return _UNSTORABLE.search(value) is None


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text, or None if it can (length is checked apart)."""
    found = (_REFUSED_MULTILINE if multiline else _REFUSED).search(value)
    if found is None:
        return None
    code = ord(found.group())
    if code == 0:
        return "text cannot contain NUL (U+0000) characters"
    if 0xD800 <= code <= 0xDFFF:
        return f"text cannot contain a lone surrogate (U+{code:04X})"
    return f"text cannot contain the control character U+{code:04X}"


def check_text(value: str, *, what: str, maximum: int = MAX_TEXT, multiline: bool = False) -> str:
    """`value` if it can be stored as text of at most `maximum` characters; else InvalidText."""
    problem = text_problem(value, multiline=multiline)
    if problem is None and len(value) > maximum:
        problem = f"at most {maximum} characters, got {len(value)}"
    if problem:
        raise InvalidText(f"{what}: {problem}")
    return value
