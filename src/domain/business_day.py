"""Night audit: a facility's business day, closed once.

Closing a day is what moves that night's share of each stay from deferred
revenue to revenue in the ledger. One `BusinessDay` per (facility, date), found
by a deterministic id, is created by the close: two clients closing the same day
at once conflict on that id, and exactly one of them records it.
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
    """A day later than today at the facility cannot be closed yet."""

    code = "day-not-over"


def business_day_id(facility_id: UUID, business_date: date) -> UUID:
    return uuid5(BUSINESS_DAY_NAMESPACE, f"{facility_id}/{business_date.isoformat()}")


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
        now: datetime,
        cause: dict[str, str],
    ) -> "BusinessDay":
        check_date(business_date)
        today = local_date(now, time_zone)
        if business_date > today:
            raise DayNotOver(f"{business_date} is not over: today is {today} at the facility")
        return cls._create(
            cls.Closed,
            id=business_day_id(facility_id, business_date),
            timestamp=now,
            cause=cause,
            facility_id=facility_id,
            business_date=business_date,
        )
