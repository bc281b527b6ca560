"""Finance commands: the night audit (closing a business day) and ledger reversals."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from berth.domain.business_day import BusinessDay, DayAlreadyClosed, business_day_id
from berth.domain.catalog_commands import CatalogCommands
from berth.domain.cause import Cause
from berth.domain.commanding import CommandResult
from berth.domain.correction import EntryAlreadyReversed, EntryReversal, reversal_id


class FinanceCommands(CatalogCommands):
    def close_day(
        self, *, facility_id: UUID, business_date: date, cause: Cause, **save_kwargs: Any
    ) -> CommandResult:
        """Night audit: close a facility's business day, once; never a day not yet over."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.facility(facility_id)
            if self._exists(business_day_id(facility_id, business_date)):
                raise DayAlreadyClosed(f"{business_date} is already closed at this facility")
            day = BusinessDay.close(
                facility_id=facility.id,
                business_date=business_date,
                time_zone=facility.time_zone,
                now=now,
                cause=meta,
            )
            return day, [day]

        return self._execute(attempt, cause, lock=[], **save_kwargs)

    def reverse_entry(
        self,
        *,
        facility_id: UUID,
        entry_id: UUID,
        reason: str,
        cause: Cause,
        **save_kwargs: Any,
    ) -> CommandResult:
        """Record that a ledger entry is reversed (at most once); the ledger posts the reversal."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            facility = self.facility(facility_id)
            if self._exists(reversal_id(entry_id)):
                raise EntryAlreadyReversed(f"entry {entry_id} is already reversed")
            reversal = EntryReversal.record(
                facility_id=facility.id, entry_id=entry_id, reason=reason, now=now, cause=meta
            )
            return reversal, [reversal]

        return self._execute(attempt, cause, lock=[], **save_kwargs)
