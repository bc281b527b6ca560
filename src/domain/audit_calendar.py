"""A facility's night-audit calendar: the first and the last day it closed.

Saved in the same transaction as every `BusinessDay` the facility closes, so
its version orders the closes: two clients closing days at once conflict here,
and the one retried sees the other's day. Its creation marks the facility's
first close (no other day may then claim to be the first); every later close
advances it. Facilities whose days were closed before the calendar existed get
one at their next close, which counts as their first.
"""

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded

AUDIT_CALENDAR_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/audit-calendar")


def audit_calendar_id(facility_id: UUID) -> UUID:
    return uuid5(AUDIT_CALENDAR_NAMESPACE, str(facility_id))


class AuditCalendar(Aggregate):
    class Started(recorded.Created):
        facility_id: UUID
        business_date: date

    class Advanced(recorded.Event):
        business_date: date

        def apply(self, aggregate: "AuditCalendar") -> None:
            aggregate.last_closed = max(aggregate.last_closed, self.business_date)

    def __init__(self, *, facility_id: UUID, business_date: date) -> None:
        self.facility_id = facility_id
        self.first_closed = business_date
        self.last_closed = business_date

    @classmethod
    def start(
        cls, *, facility_id: UUID, business_date: date, now: datetime, cause: dict[str, str]
    ) -> "AuditCalendar":
        return cls._create(
            cls.Started,
            id=audit_calendar_id(facility_id),
            timestamp=now,
            cause=cause,
            facility_id=facility_id,
            business_date=business_date,
        )

    def advance(self, *, business_date: date, now: datetime, cause: dict[str, str]) -> None:
        self.trigger_event(self.Advanced, timestamp=now, cause=cause, business_date=business_date)
