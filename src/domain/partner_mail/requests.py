"""What one booking in a partner's mail asks for, checked against the domain's bounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from berth.domain import bounds

NEW = "new"
CHANGE = "change"
CANCEL = "cancel"
ACTIONS = (NEW, CHANGE, CANCEL)

MAX_REFERENCE = 100
MAX_GUEST = 200
MAX_PLATE = 16
MAX_PLATES = 10


@dataclass(frozen=True, kw_only=True)
class BookingRequest:
    """Item `item` of a mail: a new booking, a change or a cancellation of `reference`."""

    item: int
    action: str
    reference: str
    arrival: date | None = None
    departure: date | None = None
    quantity: int | None = None
    guest: str | None = None
    plates: tuple[str, ...] | None = field(default=None)


@dataclass(frozen=True, kw_only=True)
class ItemProblem:
    """Item `item` could not be read: `code` names why, `message` says it to a person."""

    item: int
    reference: str
    code: str
    message: str


Item = BookingRequest | ItemProblem


class BadItem(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def checked(request: BookingRequest) -> BookingRequest:
    """The request if every value is within bounds and the action has what it needs."""
    _text(request.reference, "the reference", MAX_REFERENCE)
    if request.action not in ACTIONS:
        raise BadItem("unknown-action", f"the action is one of {', '.join(ACTIONS)}")
    for day, what in ((request.arrival, "arrival"), (request.departure, "departure")):
        if day is not None and bounds.date_problem(day):
            raise BadItem("date-out-of-range", f"the {what} {day} is not a supported date")
    if request.action == NEW:
        if request.arrival is None or request.departure is None:
            raise BadItem("missing-field", "a new booking needs an arrival and a departure")
        if not request.guest:
            raise BadItem("missing-field", "a new booking needs a guest")
    if request.arrival and request.departure and request.departure <= request.arrival:
        raise BadItem("invalid-stay", "the departure must be after the arrival")
    if request.quantity is not None and not 1 <= request.quantity <= bounds.MAX_QUANTITY:
        raise BadItem("invalid-quantity", f"the quantity is 1 to {bounds.MAX_QUANTITY}")
    if request.guest is not None:
        _text(request.guest, "the guest", MAX_GUEST)
    if request.plates is not None:
        if len(request.plates) > MAX_PLATES:
            raise BadItem("too-many-plates", f"at most {MAX_PLATES} plates")
        for plate in request.plates:
            _text(plate, "a plate", MAX_PLATE)
    return request


def _text(value: str, what: str, maximum: int) -> None:
    if not value:
        raise BadItem("missing-field", f"{what} is missing")
    problem = bounds.text_problem(value)
    if problem or len(value) > maximum:
        raise BadItem("invalid-text", f"{what} is not text of 1 to {maximum} characters")


def parse_date(text: str, date_format: str) -> date:
    try:
        return datetime.strptime(text.strip(), date_format).date()
    except ValueError:
        raise BadItem("invalid-date", f"{text[:40]!r} is not a date like {date_format}") from None


def parse_quantity(text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or len(stripped) > 7:
        raise BadItem("invalid-quantity", f"{stripped[:20]!r} is not a quantity")
    return int(stripped)


def parse_plates(text: str) -> tuple[str, ...]:
    return tuple(plate.strip() for plate in text.split(",") if plate.strip())
