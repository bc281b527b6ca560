"""A facility: a car park, campsite, marina or small hotel, in one time zone."""

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.error import InvalidCommand


class UnknownTimeZone(InvalidCommand):
    code = "unknown-time-zone"


class BlankName(InvalidCommand):
    code = "blank-name"


def check_time_zone(time_zone: str) -> str:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(f"{time_zone!r} is not an IANA time zone") from None
    return time_zone


def check_name(name: str) -> str:
    if not name.strip():
        raise BlankName("a name cannot be blank")
    return name.strip()


class Facility(Aggregate):
    class Registered(recorded.Created):
        name: str
        time_zone: str

    def __init__(self, *, name: str, time_zone: str) -> None:
        self.name = name
        self.time_zone = time_zone

    @classmethod
    def register(
        cls, *, facility_id: UUID, name: str, time_zone: str, now: datetime, cause: dict[str, str]
    ) -> "Facility":
        return cls._create(
            cls.Registered,
            id=facility_id,
            timestamp=now,
            cause=cause,
            name=check_name(name),
            time_zone=check_time_zone(time_zone),
        )
