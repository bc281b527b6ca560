"""Finance commands: the night audit (closing business days in order) and ledger reversals."""

from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from berth.domain.audit_calendar import AuditCalendar, audit_calendar_id
from berth.domain.business_day import BusinessDay, DayAlreadyClosed, business_day_id
from berth.domain.catalog_commands import Catalogue
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandApplication, CommandResult
from berth.domain.correction import EntryAlreadyReversed, EntryReversal, reversal_id
from berth.domain.stay import local_date


class Finance:
    """The night audit and ledger corrections."""

    def __init__(self, app: CommandApplication, *, catalogue: Catalogue) -> None:
        self.app = app
        self.catalogue = catalogue

    def close_day(
        self, *, facility_id: UUID, business_date: date, context: CommandContext
    ) -> CommandResult:
        """Night audit: close a facility's business day, once, in order, once it is over.

        The facility's `AuditCalendar` is saved with the day, so closes of one
        facility are ordered by its version (see `berth.domain.audit_calendar`).
        """

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.catalogue.facility(facility_id)
            # The calendar first: the day and the calendar are saved together, so a
            # calendar read before another close committed is followed by a day that
            # may exist (already closed), never the other way round (a calendar
            # that moved on, read after a day that did not yet exist).
            calendar = self._audit_calendar(facility_id)
            if self.app.exists(business_day_id(facility_id, business_date)):
                raise DayAlreadyClosed(f"{business_date} is already closed at this facility")
            day = BusinessDay.close(
                facility_id=facility.id,
                business_date=business_date,
                time_zone=facility.time_zone,
                opened_on=local_date(facility.created_on, facility.time_zone),
                first_close=calendar is None,
                previous_closed=calendar is not None
                and self._closed_before(calendar, business_date),
                now=now,
                cause=meta,
            )
            if calendar is None:
                calendar = AuditCalendar.start(
                    facility_id=facility.id, business_date=business_date, now=now, cause=meta
                )
            else:
                calendar.advance(business_date=business_date, now=now, cause=meta)
            return day, [calendar, day]  # the day last: the answer is its position

        return self.app.execute(attempt, context, lock=[])

    def _audit_calendar(self, facility_id: UUID) -> AuditCalendar | None:
        try:
            calendar: object = self.app.repository.get(audit_calendar_id(facility_id))
        except AggregateNotFoundError:
            return None
        return calendar if isinstance(calendar, AuditCalendar) else None

    def _closed_before(self, calendar: AuditCalendar, business_date: date) -> bool:
        """Whether the day before `business_date` is closed (days closed before the
        calendar existed are found by their id)."""
        previous = business_date - timedelta(days=1)
        if calendar.last_closed == previous:
            return True
        return self.app.exists(business_day_id(calendar.facility_id, previous))

    def reverse_entry(
        self,
        *,
        facility_id: UUID,
        entry_id: UUID,
        reason: str,
        context: CommandContext,
    ) -> CommandResult:
        """Record that a ledger entry is reversed (at most once); the ledger posts the reversal."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.catalogue.facility(facility_id)
            if self.app.exists(reversal_id(entry_id)):
                raise EntryAlreadyReversed(f"entry {entry_id} is already reversed")
            reversal = EntryReversal.record(
                facility_id=facility.id, entry_id=entry_id, reason=reason, now=now, cause=meta
            )
            return reversal, [reversal]

        return self.app.execute(attempt, context, lock=[])
