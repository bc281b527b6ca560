"""Night audit: a facility's business day, closed once, in order, once it is over.

Closing a day is what moves that night's share of each stay from deferred
revenue to revenue in the ledger. One `BusinessDay` per (facility, date), found
by a deterministic id, is created by the close: two clients closing the same day
at once conflict on that id, and exactly one of them records it.

The rules of a close (`check_closable`): never a day before the facility was
registered (its local date then, `opened_on`); never a day not yet over at the
facility (today or later there); and, except for the facility's first close,
only the day after one already closed. The first close is whatever day the
operator starts the audit on; the `AuditCalendar` saved with it says it was
made, so the rest follow on one by one.
"""

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import check_date
from berth.domain.error import DomainError
from berth.domain.stay import local_date

BUSINESS_DAY_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/business-day")


class DayAlreadyClosed(DomainError):
    code = "day-already-closed"


class DayNotOver(DomainError):
    """Today or a later day at the facility cannot be closed yet."""

    code = "day-not-over"


class BeforeFacilityOpened(DomainError):
    """A day before the facility was registered has nothing to close."""

    code = "before-facility-opened"


class PreviousDayOpen(DomainError):
    """Days close in order: the day before must be closed first."""

    code = "previous-day-open"


def business_day_id(facility_id: UUID, business_date: date) -> UUID:
    return uuid5(BUSINESS_DAY_NAMESPACE, f"{facility_id}/{business_date.isoformat()}")


def check_closable(
    *,
    business_date: date,
    today: date,
    opened_on: date,
    first_close: bool,
    previous_closed: bool,
) -> None:
    """Refuse a close the night-audit rules do not allow (see the module's docstring)."""
    if business_date < opened_on:
        raise BeforeFacilityOpened(
            f"{business_date} is before the facility was registered, on {opened_on}"
        )
    if business_date >= today:
        raise DayNotOver(f"{business_date} is not over: today is {today} at the facility")
    if not first_close and not previous_closed:
        raise PreviousDayOpen(f"the day before {business_date} is not closed yet")


class BusinessDay(Aggregate):
    class Closed(recorded.Created):
        facility_id: UUID
        business_date: date

    def __init__(self, *, facility_id: UUID, business_date: date) -> None:
        self.facility_id = facility_id
        self.business_date = business_date

    @classmethod
    def close(
        cls,
        *,
        facility_id: UUID,
        business_date: date,
        time_zone: str,
        opened_on: date,
        first_close: bool,
        previous_closed: bool,
        now: datetime,
        cause: dict[str, str],
    ) -> "BusinessDay":
        check_date(business_date)
        check_closable(
            business_date=business_date,
            today=local_date(now, time_zone),
            opened_on=opened_on,
            first_close=first_close,
            previous_closed=previous_closed,
        )
        return cls._create(
            cls.Closed,
            id=business_day_id(facility_id, business_date),
            timestamp=now,
            cause=cause,
            facility_id=facility_id,
            business_date=business_date,
        )
