"""A stay: the nights from arrival to departure, in the facility's local dates."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from berth.domain.bounds import check_date
from berth.domain.error import InvalidCommand

MAX_NIGHTS = 366


class DatesOutOfOrder(InvalidCommand):
    code = "dates-out-of-order"


class StayTooLong(InvalidCommand):
    code = "stay-too-long"


class StayInPast(InvalidCommand):
    code = "stay-in-past"


@dataclass(frozen=True)
class Stay:
    arrival: date
    departure: date

    def __post_init__(self) -> None:
        check_date(self.arrival)
        check_date(self.departure)
        if self.departure <= self.arrival:
            raise DatesOutOfOrder(
                f"departure {self.departure} must be after arrival {self.arrival}"
            )
        if self.nights > MAX_NIGHTS:
            raise StayTooLong(f"a stay is at most {MAX_NIGHTS} nights, got {self.nights}")

    @property
    def nights(self) -> int:
        return (self.departure - self.arrival).days

    def days(self) -> list[date]:
        """The dates of the nights booked (the departure day is not one of them)."""
        return [self.arrival + timedelta(days=n) for n in range(self.nights)]

    def check_not_in_past(self, *, now: datetime, time_zone: str) -> None:
        today = local_date(now, time_zone)
        if self.arrival < today:
            raise StayInPast(f"arrival {self.arrival} is before today ({today}) at the facility")


def local_date(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def local_midnight(day: date, time_zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(time_zone))
