"""Which bookings a partner's mail holds, in the partner's format."""

from __future__ import annotations

from dataclasses import replace

from berth.domain.partner_mail import calendar, csv_rows, key_value
from berth.domain.partner_mail.formats import CSV, ICS, KEY_VALUE, MailFormat
from berth.domain.partner_mail.message import Attachment, ReceivedMail
from berth.domain.partner_mail.requests import Item, ItemProblem


def bookings_in(mail: ReceivedMail, fmt: MailFormat) -> list[Item]:
    """Each booking of the mail (a problem in place of one that cannot be read)."""
    if fmt.kind == KEY_VALUE:
        return key_value.parse(mail.body, fmt)
    parse = csv_rows.parse if fmt.kind == CSV else calendar.parse
    found = [a for a in mail.attachments if _is(a, fmt.kind)]
    if not found:
        kind = "CSV" if fmt.kind == CSV else "iCalendar"
        message = f"the mail has no {kind} attachment"
        return [ItemProblem(item=1, reference="", code="no-booking", message=message)]
    items: list[Item] = []
    for attachment in found:
        for item in parse(attachment.text, fmt):
            items.append(_renumbered(item, len(items) + 1))
    return items


def _is(attachment: Attachment, kind: str) -> bool:
    name = attachment.filename.lower()
    if kind == CSV:
        return attachment.content_type in ("text/csv", "application/csv") or name.endswith(".csv")
    assert kind == ICS
    return attachment.content_type == "text/calendar" or name.endswith(".ics")


def _renumbered(item: Item, number: int) -> Item:
    return replace(item, item=number)
