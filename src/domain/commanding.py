"""The machinery every command shares: one transaction per command, bounded retries.

`CommandApplication` is Berth's eventsourcing Application with the injected
clock, night lock and reference generator; the command groups
(berth.domain.application) run their commands through it. A command builds an
`attempt` that loads what it needs, checks its rules and returns the aggregates it
touched; `execute` saves them in one transaction with optimistic concurrency, under the
night lock, and retries a conflict a bounded number of times.

The subject (the aggregate the command answers with) is saved last, so the
command's position is its subject's last event's: the position a query of the
subject's read model shows.

This is the one place a command's `CommandContext` becomes arguments of the
store's save (`_storage_arguments`): the idempotency record and camera change it
carries, and `subject=(id, version)`, so a recorder that keeps something with the
command (an idempotency record) knows which version of which aggregate the
command's answer shows.
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    OperationalError,
    Recording,
)

from berth.domain.command_context import CommandContext
from berth.domain.error import DomainError, NotFound
from berth.domain.locking import NightLock, no_lock
from berth.domain.reference import new_reference
from berth.domain.transcodings import DateAsISO

Clock = Callable[[], datetime]
Attempt = Callable[[datetime, dict[str, str]], tuple[Aggregate, list[Aggregate]]]
A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 6

log = logging.getLogger(__name__)


class TooManyConflicts(DomainError):
    code = "too-many-conflicts"


class RetryCommand(Exception):
    """The store could not decide this attempt, and stored none of it: run it again.

    Raised by a store that saves several commands together (group commit) when
    their shared transaction was rolled back for a reason that may be one command's
    own (a version conflict): each of them runs again, its outcome its own.
    """


class StaleVersion(DomainError):
    code = "stale-version"

    def __init__(self, *, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, the resource is at version {actual}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class CommandResult:
    """The aggregate a command acted on, its new version, and its last event's position.

    `subject` is that aggregate as the command left it, so a caller can show it
    without reading it back.
    """

    id: UUID
    version: int
    position: int
    subject: Aggregate | None = field(default=None, compare=False, repr=False)


class CommandApplication(Application[UUID]):
    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock,
        night_lock: NightLock = no_lock,
        make_reference: Callable[[], str] = new_reference,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.night_lock = night_lock
        self.make_reference = make_reference
        self._just_saved = threading.local()  # what this thread's command saved, for snapshots

    def close(self) -> None:
        super().close()
        close_lock = getattr(self.night_lock, "close", None)
        if callable(close_lock):
            close_lock()

    def _take_snapshots(self, processing_event: Any) -> None:
        """Snapshots are taken after the command committed: losing one costs nothing.

        A snapshot that cannot be written because the database went away must not
        turn a committed command into an error; the next one is taken later.
        """
        self._just_saved.aggregates = processing_event.aggregates
        try:
            super()._take_snapshots(processing_event)
        except (OperationalError, InterfaceError) as error:
            log.warning("snapshot not taken after commit, the database went away: %s", error)
        finally:
            self._just_saved.aggregates = {}

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: Any = project_aggregate,
    ) -> None:
        """The snapshot of an aggregate the command just saved is taken from the
        command's own copy, at that version, rather than rebuilt from the store
        (a snapshot read and up to an interval of events, per snapshot)."""
        saved = getattr(self._just_saved, "aggregates", {}).get(aggregate_id)
        if saved is not None and saved.version == version and self.snapshots is not None:
            snapshot_class = getattr(type(saved), "Snapshot", type(self).snapshot_class)
            if snapshot_class is not None:
                self.snapshots.put([snapshot_class.take(saved)])
                return
        super().take_snapshot(aggregate_id, version, projector_func)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def find(self, aggregate_id: UUID, kind: type[A], missing: type[NotFound]) -> A:
        """The aggregate, if it is a `kind`; else `missing`."""
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing(f"no {kind.__name__.lower()} {aggregate_id}") from None
        if not isinstance(aggregate, kind):
            raise missing(f"no {kind.__name__.lower()} {aggregate_id}")
        return aggregate

    def last_seen(self, aggregate_id: UUID, kind: type[A], missing: type[NotFound]) -> A:
        """The aggregate as this process last saw it, without asking the store.

        Read from the store only if this process has not seen it (or forgot it). For
        what a command needs before its transaction and reads again in it (name it in
        `execute`'s `read`): the booking whose nights it locks, and who may see that
        booking (its channel and facility never change). It may be behind the store,
        and it is the cache's own object, not a copy: read it, never change it.
        """
        if self.repository.cache is not None:
            try:
                aggregate: object = self.repository.cache.get(aggregate_id)
            except KeyError:
                pass
            else:
                if isinstance(aggregate, kind):
                    return aggregate
        return self.find(aggregate_id, kind, missing)

    def execute(
        self,
        attempt: Attempt,
        context: CommandContext,
        *,
        lock: Sequence[UUID],
        read: Sequence[UUID] = (),
    ) -> CommandResult:
        """Run `attempt` and save what it touched in one transaction, retrying conflicts.

        `read`: aggregates besides the locked nights that `attempt` reads (the
        booking, the pool), which the night lock may bring up to date with its locks.
        """
        meta = context.cause.as_metadata()
        for attempt_number in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.night_lock(sorted(set(lock)), read=read):
                    subject, touched = attempt(self.clock(), meta)
                    ordered = [a for a in touched if a is not subject]
                    ordered += [a for a in touched if a is subject]
                    try:
                        recordings = self._save(ordered, _storage_arguments(context, subject))
                    except IntegrityError:
                        pass
                    else:
                        return self._result(subject, recordings)
            except RetryCommand:
                pass
            time.sleep(random.uniform(0, 0.005 * attempt_number))  # noqa: S311 - jitter
        raise TooManyConflicts(
            f"the command conflicted with concurrent changes {MAX_ATTEMPTS} times; retry it"
        )

    def save_new(self, subject: Aggregate, context: CommandContext) -> CommandResult:
        """Save a command's one new aggregate, without the night lock or retries."""
        return self._result(subject, self._save([subject], _storage_arguments(context, subject)))

    def _save(
        self, aggregates: list[Aggregate], arguments: dict[str, Any]
    ) -> list[Recording[UUID]]:
        """The library's `save`, for aggregates only.

        Its `save` asks of each object whether it is a domain event and whether it can
        collect events: runtime-checkable Protocols, which Python 3.11 checks by
        collecting the protocol's members each time: 11% of a command request's
        instructions (bench/command_instructions.py, 5.05 M before, 4.49 M after). A
        command saves only aggregates, so they are asked for their events directly;
        the rest is the library's save, step for step.
        """
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(arguments)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # (deprecated, as the library's save calls it)
        return recordings

    def _result(self, subject: Aggregate, recordings: list[Recording[UUID]]) -> CommandResult:
        """The result; a command that changed nothing answers with the store's head position."""
        positions = [r.notification.id for r in recordings if r.notification.id is not None]
        position = max(positions) if positions else (self.recorder.max_notification_id() or 0)
        return CommandResult(
            id=subject.id, version=subject.version, position=position, subject=subject
        )


def check_version(aggregate: Aggregate, expected_version: int | None) -> None:
    """Refuse a command whose caller saw another version of its subject (If-Match)."""
    if expected_version is not None and aggregate.version != expected_version:
        raise StaleVersion(expected=expected_version, actual=aggregate.version)


def _storage_arguments(context: CommandContext, subject: Aggregate) -> dict[str, Any]:
    """What the store's recorder is given with a command's events, in their transaction."""
    return {
        "subject": (subject.id, subject.version),
        "idempotency": context.idempotency,
        "camera_change": context.camera_change,
        "row_write": context.row_write,
    }
