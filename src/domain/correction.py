"""Ledger corrections: a posted journal entry is never edited, only reversed.

Reversing an entry is a fact of its own, recorded as an `EntryReversal` whose id
is derived from the entry's id, so an entry is reversed at most once. The ledger
projection turns it into a new entry with every line of the original negated.
Whether the entry exists is for the ledger read model to say (the command side
knows no entries); the HTTP layer looks it up before calling the command.
"""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import check_text
from berth.domain.error import DomainError, InvalidCommand, NotFound

REVERSAL_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/entry-reversal")
MAX_REASON = 500


class EntryAlreadyReversed(DomainError):
    code = "entry-already-reversed"


class ReasonRequired(InvalidCommand):
    code = "reason-required"


def reversal_id(entry_id: UUID) -> UUID:
    return uuid5(REVERSAL_NAMESPACE, str(entry_id))


class EntryReversal(Aggregate):
    class Recorded(recorded.Created):
        facility_id: UUID
        entry_id: UUID
        reason: str

    def __init__(self, *, facility_id: UUID, entry_id: UUID, reason: str) -> None:
        self.facility_id = facility_id
        self.entry_id = entry_id
        self.reason = reason

    @classmethod
    def record(
        cls,
        *,
        facility_id: UUID,
        entry_id: UUID,
        reason: str,
        now: datetime,
        cause: dict[str, str],
    ) -> "EntryReversal":
        check_text(reason, what="a reason", multiline=True)
        if not reason.strip():
            raise ReasonRequired("a reversal needs a reason")
        if len(reason) > MAX_REASON:
            raise ReasonRequired(f"a reason is at most {MAX_REASON} characters")
        return cls._create(
            cls.Recorded,
            id=reversal_id(entry_id),
            timestamp=now,
            cause=cause,
            facility_id=facility_id,
            entry_id=entry_id,
            reason=reason.strip(),
        )


class UnknownEntry(NotFound):
    """No journal entry by that id (the ledger read model says)."""

    code = "unknown-entry"
