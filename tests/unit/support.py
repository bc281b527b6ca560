"""Helpers for the unit tests: the clock, test dates, and the store's size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from berth.domain.application import Reservations
from berth.domain.commanding import CommandResult
from berth.domain.stay import Stay

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}

# 09:00 UTC is 10:00 in London (BST): the facility's local date is 1 June.
START = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
TODAY = date(2030, 6, 1)


class Clock:
    """A clock the test moves by hand; the app calls it for "now"."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


def night(offset: int) -> date:
    """The date `offset` days after the first test day."""
    return TODAY + timedelta(days=offset)


def stay(first: int, nights: int = 1) -> Stay:
    return Stay(night(first), night(first + nights))


def store_size(app: Reservations) -> int:
    """How many events the store holds: unchanged means nothing was stored."""
    return app.recorder.max_notification_id() or 0


HoldFn = Callable[..., CommandResult]
