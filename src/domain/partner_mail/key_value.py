"""The key-value text format: one booking a mail, as "Key: value" lines in the body.

    Action: new
    Reference: PX-1042
    Arrival: 2027-03-01
    Departure: 2027-03-04
    Guest: Ada Lovelace
    Plate: AB12CDE, XY99ZZZ

Keys are matched case-insensitively to the partner's field names; lines that are
no field (greetings, signatures) are passed over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from berth.domain.partner_mail.formats import FIELDS, MailFormat
from berth.domain.partner_mail.requests import (
    NEW,
    BadItem,
    BookingRequest,
    Item,
    ItemProblem,
    checked,
    parse_date,
    parse_plates,
    parse_quantity,
)

MAX_LINES = 2000
T = TypeVar("T")


def parse(text: str, fmt: MailFormat) -> list[Item]:
    values: dict[str, str] = {}
    keys = {fmt.name_of(name).casefold(): name for name in FIELDS}
    for line in text.splitlines()[:MAX_LINES]:
        key, sep, value = line.partition(":")
        ours = keys.get(key.strip().casefold()) if sep else None
        if ours is not None and ours not in values:
            values[ours] = value.strip()
    if "reference" not in values:
        return [ItemProblem(item=1, reference="", code="no-booking", message=_no_booking(fmt))]
    return [request_of(values, fmt, item=1)]


def request_of(values: dict[str, str], fmt: MailFormat, *, item: int) -> Item:
    """One booking from our field names and the partner's texts (key-value and CSV)."""
    reference = values.get("reference", "").strip()
    try:
        action = fmt.action_of(values["action"]) if values.get("action") else NEW
        if action is None:
            raise BadItem("unknown-action", f"{values['action'][:40]!r} is no action we know")
        return checked(
            BookingRequest(
                item=item,
                action=action,
                reference=reference,
                arrival=_optional(values, "arrival", lambda t: parse_date(t, fmt.date_format)),
                departure=_optional(values, "departure", lambda t: parse_date(t, fmt.date_format)),
                quantity=_optional(values, "quantity", parse_quantity),
                guest=values.get("guest") or None,
                plates=_optional(values, "plates", parse_plates),
            )
        )
    except BadItem as bad:
        return ItemProblem(item=item, reference=reference[:100], code=bad.code, message=str(bad))


def _optional(values: dict[str, str], name: str, parse: Callable[[str], T]) -> T | None:
    text = values.get(name, "").strip()
    return parse(text) if text else None


def _no_booking(fmt: MailFormat) -> str:
    return f"no {fmt.name_of('reference')!r} line: the mail holds no booking we can read"
