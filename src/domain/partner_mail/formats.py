"""A partner's mail format: configuration (stored as JSON with the partner), not code.

`kind` says where the bookings are: the text body as "Key: value" lines
(`key-value`, one booking a mail), a CSV attachment (`csv`, one booking a row) or
an iCalendar attachment (`ics`, one booking a VEVENT). `fields` names, for each of
our fields, the partner's key, column or calendar property; `actions` lists the
partner's words for new, change and cancel. Missing entries take the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from berth.domain import bounds
from berth.domain.partner_mail.requests import ACTIONS, CANCEL, CHANGE, NEW

KEY_VALUE = "key-value"
CSV = "csv"
ICS = "ics"
KINDS = (KEY_VALUE, CSV, ICS)

FIELDS = ("action", "reference", "arrival", "departure", "quantity", "guest", "plates")

DEFAULT_FIELDS = {
    KEY_VALUE: {
        "action": "Action",
        "reference": "Reference",
        "arrival": "Arrival",
        "departure": "Departure",
        "quantity": "Quantity",
        "guest": "Guest",
        "plates": "Plate",
    },
    CSV: {
        "action": "action",
        "reference": "reference",
        "arrival": "arrival",
        "departure": "departure",
        "quantity": "quantity",
        "guest": "guest",
        "plates": "plate",
    },
    ICS: {
        "reference": "UID",
        "guest": "SUMMARY",
        "quantity": "X-QUANTITY",
        "plates": "X-PLATE",
    },
}

DEFAULT_ACTIONS = {NEW: ("new", "book"), CHANGE: ("change", "amend"), CANCEL: ("cancel",)}


class InvalidFormat(ValueError):
    """The configuration is not a format (refused when the partner is created)."""


@dataclass(frozen=True, kw_only=True)
class MailFormat:
    kind: str = KEY_VALUE
    fields: dict[str, str] = field(default_factory=dict)
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","

    def name_of(self, our_field: str) -> str:
        return self.fields.get(our_field) or DEFAULT_FIELDS[self.kind].get(our_field, "")

    def action_of(self, word: str) -> str | None:
        """Our action for the partner's word (case-insensitive); None if it is none of them."""
        wanted = word.strip().casefold()
        for action in ACTIONS:
            words = self.actions.get(action) or DEFAULT_ACTIONS[action]
            if wanted in (w.casefold() for w in words):
                return action
        return None

    def as_config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "fields": dict(self.fields),
            "actions": {action: list(words) for action, words in self.actions.items()},
            "date_format": self.date_format,
            "delimiter": self.delimiter,
        }


def from_config(config: dict[str, Any]) -> MailFormat:
    """The format a partner's configuration describes; InvalidFormat says what is wrong."""
    unknown = set(config) - {"kind", "fields", "actions", "date_format", "delimiter"}
    if unknown:
        raise InvalidFormat(f"unknown format settings: {', '.join(sorted(unknown))}")
    kind = config.get("kind", KEY_VALUE)
    if kind not in KINDS:
        raise InvalidFormat(f"the format kind is one of {', '.join(KINDS)}")
    fields = config.get("fields") or {}
    if not isinstance(fields, dict) or set(fields) - set(FIELDS):
        raise InvalidFormat(f"format fields are some of {', '.join(FIELDS)}")
    if not all(_word(v, 100) for v in fields.values()):
        raise InvalidFormat("each format field names a key of 1 to 100 characters")
    actions = config.get("actions") or {}
    if not isinstance(actions, dict) or set(actions) - set(ACTIONS):
        raise InvalidFormat(f"format actions are some of {', '.join(ACTIONS)}")
    words = {}
    for action, listed in actions.items():
        if not isinstance(listed, list) or not all(_word(w, 50) for w in listed):
            raise InvalidFormat("each format action lists words of 1 to 50 characters")
        words[action] = tuple(listed)
    date_format = config.get("date_format", "%Y-%m-%d")
    if not _word(date_format, 40) or "%" not in date_format:
        raise InvalidFormat("the date format is a strptime pattern such as %Y-%m-%d")
    delimiter = config.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise InvalidFormat("the CSV delimiter is one character")
    return MailFormat(
        kind=kind, fields=dict(fields), actions=words, date_format=date_format, delimiter=delimiter
    )


def _word(value: object, maximum: int) -> bool:
    """Whether `value` is text of 1 to `maximum` characters without control characters."""
    return isinstance(value, str) and 0 < len(value) <= maximum and not bounds.text_problem(value)
