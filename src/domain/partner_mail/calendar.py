"""The iCalendar format: an .ics attachment, one booking a VEVENT (parsed by `icalendar`).

The event's UID is the partner's reference (or the property the format names),
DTSTART and DTEND the arrival and departure dates, SUMMARY the guest. A calendar
with METHOD:CANCEL or an event with STATUS:CANCELLED cancels; an event with a
SEQUENCE above 0 changes the booking; any other is new.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import icalendar

from berth.domain.partner_mail.formats import MailFormat
from berth.domain.partner_mail.requests import (
    CANCEL,
    CHANGE,
    NEW,
    BadItem,
    BookingRequest,
    Item,
    ItemProblem,
    checked,
    parse_plates,
    parse_quantity,
)

MAX_EVENTS = 500


def parse(text: str, fmt: MailFormat) -> list[Item]:
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        message = f"not an iCalendar file: {str(error)[:200]}"
        return [ItemProblem(item=1, reference="", code="invalid-ics", message=message)]
    method = str(calendar.get("METHOD", "")).upper()
    events = list(calendar.walk("VEVENT"))
    if not events:
        return [ItemProblem(item=1, reference="", code="no-booking", message="no VEVENT")]
    items: list[Item] = []
    for number, event in enumerate(events, start=1):
        if number > MAX_EVENTS:
            message = f"more than {MAX_EVENTS} events: the rest are not read"
            items.append(
                ItemProblem(item=number, reference="", code="too-many-rows", message=message)
            )
            break
        items.append(_request(event, method, fmt, item=number))
    return items


def _request(event: Any, method: str, fmt: MailFormat, *, item: int) -> Item:
    reference = str(event.get(fmt.name_of("reference"), "")).strip()
    try:
        if method == "CANCEL" or str(event.get("STATUS", "")).upper() == "CANCELLED":
            action = CANCEL
        elif int(str(event.get("SEQUENCE", "0")) or 0) > 0:
            action = CHANGE
        else:
            action = NEW
        quantity = str(event.get(fmt.name_of("quantity"), "")).strip()
        plates = str(event.get(fmt.name_of("plates"), "")).strip()
        guest = str(event.get(fmt.name_of("guest"), "")).strip()
        return checked(
            BookingRequest(
                item=item,
                action=action,
                reference=reference,
                arrival=_day(event.get("DTSTART")),
                departure=_day(event.get("DTEND")),
                quantity=parse_quantity(quantity) if quantity else None,
                guest=guest or None,
                plates=parse_plates(plates) if plates else None,
            )
        )
    except BadItem as bad:
        return ItemProblem(item=item, reference=reference[:100], code=bad.code, message=str(bad))
    except ValueError as error:
        message = f"event {item}: {str(error)[:200]}"
        return ItemProblem(
            item=item, reference=reference[:100], code="invalid-ics", message=message
        )


def _day(prop: Any) -> date | None:
    if prop is None:
        return None
    value = prop.dt
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise BadItem("invalid-date", "DTSTART and DTEND are dates or date-times")
