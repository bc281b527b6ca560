"""A facility: a car park, campsite, marina or small hotel, in one time zone."""

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import check_text
from berth.domain.error import DomainError, InvalidCommand


class UnknownTimeZone(InvalidCommand):
    code = "unknown-time-zone"


class BlankName(InvalidCommand):
    code = "blank-name"


class MixedCurrency(DomainError):
    """A facility keeps its books in one currency: that of its first pool."""

    code = "mixed-currency"


def check_time_zone(time_zone: str) -> str:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(f"{time_zone!r} is not an IANA time zone") from None
    return time_zone


def check_name(name: str) -> str:
    check_text(name, what="a name", maximum=200)
    if not name.strip():
        raise BlankName("a name cannot be blank")
    return name.strip()


class Facility(Aggregate):
    class Registered(recorded.Created):
        name: str
        time_zone: str

    class CurrencySet(recorded.Event):
        """The currency of the facility's books, taken from its first pool."""

        currency: str

        def apply(self, aggregate: "Facility") -> None:
            aggregate.currency = self.currency

    def __init__(self, *, name: str, time_zone: str) -> None:
        self.name = name
        self.time_zone = time_zone
        self.currency: str | None = None

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

    def adopt_currency(self, *, currency: str, now: datetime, cause: dict[str, str]) -> None:
        """Take `currency` if the facility has none yet; refuse any other one."""
        if self.currency is None:
            self.trigger_event(self.CurrencySet, timestamp=now, cause=cause, currency=currency)
        elif currency != self.currency:
            raise MixedCurrency(
                f"this facility's pools are priced in {self.currency}, not {currency}"
            )
