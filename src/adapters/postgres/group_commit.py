"""Group commit: concurrent commands of one process share one transaction and one COMMIT.

`GroupCommit` (BERTH_GROUP_COMMIT) queues the command transactions a process's
threads ask for (BerthRecorder.command_transaction). The first thread to find no
batch running leads one: it takes whatever is queued (at most `max_size`, no wait
for more), begins one transaction on one pooled connection and takes the night
locks of all of them at once, in key order, as transaction locks. The commands
then take turns on that connection, in queue order, each under a SAVEPOINT: its
reads, its domain attempt, its insert and RELEASE (one round trip, with the COMMIT
when it is the last). A refusal or a version conflict rolls back to its savepoint
and leaves the others alone; a conflicting command retries in a later batch.

Every lock a batch takes is taken before its first insert takes the events
table's lock: the order every transaction of the store keeps (night locks, then
the table lock until COMMIT), so batches of two processes cannot deadlock.

An answer is given only once its batch committed: a command that saved or was
refused waits for the COMMIT, and if the COMMIT fails (the connection was lost, a
deferred check failed) every one of them gets the error and none is stored.

A pipelined batch (the default) reads every command's new events in its first
round trip, and what rebuilds each aggregate a command's process never cached (its
latest snapshot and the events after it); a turn is then only its command's
attempt: what it saved waits, its aggregates in the batch's cache layer, where
the next turn reads them (and a turn trusts that layer over what the first round
trip read of an aggregate a turn before it changed). After the last turn, every
command's insert goes in one pipeline with the COMMIT: one round trip, the only
one that holds the events table's lock. A statement that fails there cannot be
told apart from those the pipeline then skipped, so the batch is rolled back and
every command runs again (RetryCommand) in a synced batch, whose savepoints tell
them apart.

A ROLLBACK runs alone, outside a pipeline: psycopg (3.3) empties its cache of
prepared statements when a result says ROLLBACK (a ROLLBACK TO SAVEPOINT too) and
deallocates them all on the server before its next statement; in a pipeline that
result is read at a sync, and the DEALLOCATE ALL then follows statements prepared
since, which psycopg believes prepared ("prepared statement _pg3_9 does not exist").

The aggregate cache is not touched by a batch until it committed: a command in its
turn reads and writes a private layer (`BatchCache`), copies of the shared cache's
aggregates, which is kept with the batch when its savepoint is released, dropped
when it is rolled back, and put into the shared cache after the COMMIT.
"""

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from copy import deepcopy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from eventsourcing.application import Cache, Repository
from eventsourcing.persistence import OperationalError, PersistenceError
from psycopg import Connection
from psycopg.rows import DictRow

from berth.domain.commanding import RetryCommand

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent

    from berth.adapters.postgres.eventstore import BerthRecorder

MAX_BATCH = 16
_UNSIGNED = (1 << 64) - 1


class GroupCommitFailed(OperationalError):
    """The batch a command was in was not committed: the command was not stored."""


def lock_order(keys: Sequence[int]) -> list[int]:
    """Advisory keys in the order of the UUIDs they come from (night_lock.advisory_key)."""
    return sorted(set(keys), key=lambda key: key & _UNSIGNED)


@dataclass(eq=False)
class Member:
    """One command's place in a batch."""

    lock_keys: Sequence[int]
    read_after: Sequence[tuple[UUID, int]]
    whole: Sequence[UUID] = ()  # aggregates its process never cached: read whole (pipelined)
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # woken to begin the next batch
    failure: Exception | None = None  # woken to fail before its turn
    batch: "Batch | None" = None
    saved: bool = False
    overlay: dict[Any, Any] = field(default_factory=dict)  # its turn's cache layer
    prefetched: list[DictRow] | None = None  # its reads, done by the command before it
    prefetched_whole: list[DictRow] | None = None  # what rebuilds its `whole` (pipelined)
    savepoint: str = "berth_command_0"  # its own name: a savepoint released is gone
    careful: bool = False  # retrying after a pipelined batch was rolled back: a synced one
    writes: "Writes | None" = None  # pipelined: what its save writes, at the batch's end
    ids: Sequence[int] | None = None


@dataclass(frozen=True, eq=False)
class Writes:
    """A pipelined command's save: its events, and the rows that need their ids."""

    events: Sequence["StoredEvent"]
    kwargs: dict[str, Any]
    positioned: bool  # rows written after the insert, with its ids (an idempotency record)


@dataclass(eq=False)
class Batch:
    members: list[Member]
    conn: Connection[DictRow] | None = None
    stack: ExitStack | None = None
    turn: int = 0
    any_saved: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    error: PersistenceError | None = None
    overlay: dict[Any, Any] = field(default_factory=dict)  # released members' cache layers
    pipelined: bool = False  # its writes are sent together at its end (below)
    retry: bool = False  # lost for a reason that may be one command's own: all run again
    written: dict[Any, int] = field(default_factory=dict)  # versions saved by released turns

    def is_last(self, member: Member) -> bool:
        return self.members[-1] is member

    def keep(self, member: Member) -> None:
        """The member's cache layer becomes the batch's (the turns after it read it)."""
        self.overlay.update(member.overlay)
        member.overlay = {}

    def pending(self) -> list[Member]:
        """The pipelined members whose saves are not written yet."""
        return [member for member in self.members if member.writes is not None]


class GroupCommit:
    def __init__(
        self,
        recorder: "BerthRecorder",
        *,
        max_size: int = MAX_BATCH,
        parallel: int = 1,
        pipelined: bool = True,
    ) -> None:
        self.recorder = recorder
        self.max_size = max_size
        self.parallel = parallel  # batches running at once, each on its own connection
        self.pipelined = pipelined  # batches whose writes wait for their end (above)
        self._careful = threading.local()  # this thread's next command runs in a synced batch
        self.cache: BatchCache | None = None  # set by open_reservations
        self._lock = threading.Lock()
        self._queue: deque[Member] = deque()
        self._running = 0
        self.batches = 0  # begun, for tests and the bench

    @contextmanager
    def turn(
        self,
        lock_keys: Sequence[int],
        read_after: Sequence[tuple[UUID, int]],
        whole: Sequence[UUID] = (),
    ) -> Iterator[tuple[Connection[DictRow], list[DictRow], list[DictRow] | None, Member]]:
        """This command's turn in a batch: the connection, the events read, what rebuilds
        the aggregates `whole` names (None in a synced batch, which does not read them:
        the command does), its place.

        Leaving it after a save (the insert released the savepoint) or a refusal waits
        for the batch's COMMIT and raises its error if it failed; leaving it without
        a save (a conflict) rolls back to the savepoint and returns at once.
        """
        member = Member(lock_keys, read_after, whole, careful=getattr(self._careful, "next", False))
        self._careful.next = False
        try:
            rows, whole_rows = self._wait_for_turn(member)
            batch = member.batch
            assert batch is not None and batch.conn is not None
            try:
                yield batch.conn, rows, whole_rows, member
            except BaseException as error:
                self._end_turn(member)
                self._await(member, error)
                raise
            self._end_turn(member)
            if member.saved:
                self._await(member, None)
        except RetryCommand:
            self._careful.next = True  # this thread's command runs again, in a synced batch
            raise

    def _wait_for_turn(self, member: Member) -> tuple[list[DictRow], list[DictRow] | None]:
        with self._lock:
            self._queue.append(member)
            if self._running < self.parallel:
                self._running += 1
                member.lead = True
                member.woken.set()
        while True:
            member.woken.wait()
            member.woken.clear()
            if member.failure is not None:
                raise member.failure
            if member.lead:
                member.lead = False
                return self._open()
            return self._start_turn(member)

    def _open(self) -> tuple[list[DictRow], list[DictRow] | None]:
        """Begin a batch of what is queued; the leader (first queued) has the first turn."""
        with self._lock:
            members = [self._queue.popleft() for _ in range(min(self.max_size, len(self._queue)))]
            self.batches += 1
        batch = Batch(members)
        for index, member in enumerate(members):
            member.batch = batch
            member.savepoint = f"berth_command_{index}"
        keys = lock_order([key for member in members for key in member.lock_keys])
        batch.pipelined = self.pipelined and not any(member.careful for member in members)
        read_after = members[0].read_after
        whole: list[UUID] = []
        if batch.pipelined:  # every member's reads, from the lowest version any of them has
            lowest: dict[UUID, int] = {}
            for member in members:
                for key, version in member.read_after:
                    lowest[key] = min(version, lowest.get(key, version))
            read_after = list(lowest.items())
            whole = list(dict.fromkeys(key for member in members for key in member.whole))
        try:
            stack, conn, rows, whole_rows = self.recorder._begin(
                keys,
                read_after,
                savepoint=None if batch.pipelined else members[0].savepoint,
                whole=whole,
            )
        except BaseException as error:
            self._fail(batch, _persistence_error(error), started=1)
            raise
        batch.stack, batch.conn = stack, conn
        if not batch.pipelined:
            return rows, None
        for member in members:
            after = dict(member.read_after)
            member.prefetched = [
                row
                for row in rows
                if row["originator_id"] in after
                and row["originator_version"] > after[row["originator_id"]]
            ]
            wanted = set(member.whole)
            member.prefetched_whole = [row for row in whole_rows if row["originator_id"] in wanted]
        return self._start_turn(members[0])

    def _start_turn(self, member: Member) -> tuple[list[DictRow], list[DictRow] | None]:
        batch = member.batch
        assert batch is not None and batch.conn is not None
        if batch.pipelined:  # (read in the batch's first round trip; no savepoint)
            assert member.prefetched is not None and member.prefetched_whole is not None
            return member.prefetched, member.prefetched_whole
        if member.prefetched is not None:
            return member.prefetched, None
        try:
            return self.recorder._read_in_turn(batch.conn, member), None
        except BaseException as error:
            self._fail(batch, _persistence_error(error), started=batch.turn + 1)
            raise

    def _end_turn(self, member: Member) -> None:
        """Release or roll back the member's savepoint; hand on the turn or commit."""
        batch = member.batch
        assert batch is not None
        if batch.done.is_set():  # the member's insert committed the batch, or the batch failed
            if batch.error is None and self.cache is not None:
                self.cache.publish(member.overlay)  # what it cached after its COMMIT
            member.overlay = {}
            return
        if batch.pipelined:  # a turn that saved nothing wrote nothing
            batch.keep(member)
            self._pass_turn(member)
            return
        conn = batch.conn
        assert conn is not None
        last = batch.is_last(member)
        statements = (
            []
            if member.saved
            else [
                f"ROLLBACK TO SAVEPOINT {member.savepoint}",
                f"RELEASE SAVEPOINT {member.savepoint}",
            ]
        )
        if last:
            statements.append("COMMIT" if batch.any_saved else "ROLLBACK")
        try:
            # (A saved command's insert released its savepoint: no round trip.) Not in a
            # pipeline: see "A ROLLBACK runs alone" above.
            for statement in statements:
                conn.execute(statement)
        except Exception as error:
            self._fail(batch, _persistence_error(error), started=batch.turn + 1)
            return
        # What a refused or conflicting command read is the batch's state too (its
        # attempt changed copies of its own): cached as well once the batch committed.
        batch.keep(member)
        if last:
            self._committed(batch)
        else:
            batch.turn += 1
            batch.members[batch.turn].woken.set()

    def released(
        self, member: Member, saved: dict[Any, int], writes: Writes | None
    ) -> Sequence[int] | None:
        """A pipelined turn saved: its writes wait for the batch's end, the next turn
        begins at once; the ids, once the batch committed (else its error)."""
        batch = member.batch
        assert batch is not None
        member.saved = True
        batch.any_saved = True
        member.writes = writes
        for key, version in saved.items():
            batch.written[key] = max(version, batch.written.get(key, version))
        batch.keep(member)  # the turns after this one read its aggregates there
        self._pass_turn(member)
        batch.done.wait()
        if batch.error is not None:
            raise _fresh(batch.error, retry=batch.retry) from batch.error
        return member.ids

    def flush(self, member: Member) -> None:
        """Write what the batch's turns saved so far, now (not committed): for a save
        whose aggregates the batch's cache layer does not have, so that the turns
        after it read them from the transaction."""
        batch = member.batch
        assert batch is not None and batch.conn is not None
        pending = batch.pending()
        try:
            self.recorder.write_batch(batch.conn, pending, commit=False)
        except psycopg.Error as error:
            self._pipeline_failed(batch, error)
            raise _fresh(batch.error or error, retry=batch.retry) from error
        for each in pending:
            each.writes = None

    def _pass_turn(self, member: Member) -> None:
        """In a pipelined batch: the next turn; after the last, the batch's writes."""
        batch = member.batch
        assert batch is not None and batch.conn is not None
        if not batch.is_last(member):
            batch.turn += 1
            batch.members[batch.turn].woken.set()
            return
        try:
            if batch.any_saved:
                # Every write in one pipeline with the COMMIT: one sync, the table's lock
                # held from the first insert for that round trip only.
                self.recorder.write_batch(batch.conn, batch.pending(), commit=True)
            else:  # alone, outside a pipeline: see "A ROLLBACK runs alone"
                batch.conn.execute("ROLLBACK")
        except psycopg.Error as error:
            self._pipeline_failed(batch, error)
            return
        self._committed(batch)

    def _pipeline_failed(self, batch: Batch, error: psycopg.Error) -> None:
        """A statement of a pipelined batch failed: nothing of it is stored.

        Which command's it was is not known here (the statements after it report only
        that the pipeline was aborted), so every command runs again, in synced batches
        that tell them apart; a lost connection fails them, as in a synced batch.
        """
        conn = batch.conn
        batch.retry = conn is not None and not (conn.broken or conn.closed)
        self._fail(batch, _persistence_error(error), started=batch.turn + 1)

    def following(self, member: Member) -> Member | None:
        """The command after `member` in its batch, if it is not the last."""
        batch = member.batch
        if batch is None or batch.is_last(member):
            return None
        return batch.members[batch.members.index(member) + 1]

    def saved(self, member: Member, *, committed: bool) -> None:
        """The member's insert released its savepoint (and committed, if it is the last)."""
        batch = member.batch
        assert batch is not None
        member.saved = True
        batch.any_saved = True
        if committed:
            batch.keep(member)
            self._committed(batch)

    def failed(self, member: Member, error: PersistenceError) -> None:
        """The member's insert failed in a way that lost the batch (its COMMIT, the link)."""
        batch = member.batch
        assert batch is not None
        self._fail(batch, error, started=batch.turn + 1)

    def _committed(self, batch: Batch) -> None:
        if self.cache is not None:
            self.cache.publish(batch.overlay)
        batch.overlay = {}
        self._close(batch, None)

    def _fail(self, batch: Batch, error: PersistenceError, *, started: int) -> None:
        """The batch is lost: members that had their turn get `error`; the rest too."""
        batch.error = error
        batch.overlay = {}
        for member in batch.members[started:]:
            member.failure = _fresh(error, retry=batch.retry)
            member.woken.set()
        self._close(batch, error)

    def _close(self, batch: Batch, error: PersistenceError | None) -> None:
        conn, stack = batch.conn, batch.stack
        if conn is not None and error is not None:
            with suppress(psycopg.Error):
                conn.execute("ROLLBACK")
        batch.conn, batch.stack = None, None
        if stack is not None:
            # The pool discards a connection that was lost and resets one left in a transaction.
            with suppress(psycopg.Error, PersistenceError):
                stack.close()
        batch.done.set()
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].woken.set()
            else:
                self._running -= 1

    def _await(self, member: Member, error: BaseException | None) -> None:
        """Wait for the member's batch to end; its error, if it was not committed."""
        batch = member.batch
        assert batch is not None
        batch.done.wait()
        if batch.error is not None:
            if error is batch.error or isinstance(error, GroupCommitFailed | RetryCommand):
                return  # the member's own error is the batch's: it is raised as it is
            raise _fresh(batch.error, retry=batch.retry) from error


def _fresh(error: Exception, *, retry: bool = False) -> Exception:
    """An error of its own for each command of a failed batch (raised in its thread):
    to run it again, if the batch was lost for a reason that may be one command's own."""
    if retry:
        return RetryCommand(f"the command's batch was rolled back: {error}")
    return GroupCommitFailed(f"the command's batch was not committed: {error}")


def _persistence_error(error: BaseException) -> PersistenceError:
    """The library's error for what lost a batch (as its own reads and writes report them)."""
    from berth.adapters.postgres.eventstore import _library_error  # noqa: PLC0415 - a cycle

    if isinstance(error, PersistenceError):
        return error
    if isinstance(error, psycopg.Error):
        return _library_error(error)
    return PersistenceError(f"{type(error).__name__}: {error}")


class BatchCache(Cache[Any, Any]):
    """The repository's cache, with a layer of its own for a command in a batch's turn.

    Outside a turn it is the shared cache. In a turn, a read copies the aggregate
    (from the batch's layer, else the shared cache under the library's
    fast-forward lock) into the member's layer, and a write goes to that layer:
    the library's fast-forward in place then changes only the copy, and nothing
    reaches the shared cache before the batch committed (`publish`).
    """

    def __init__(self, shared: Cache[Any, Any], repository: Repository[Any], group: GroupCommit):
        super().__init__()
        self.shared = shared
        self.repository = repository
        self.group = group

    def _member(self) -> Member | None:
        return self.group.recorder.command.member

    def in_turn(self) -> bool:
        """Whether this thread's command has its turn in a batch: reads give private copies."""
        return self._member() is not None

    def get(self, key: Any, *, evict: bool = False) -> Any:
        member = self._member()
        if member is None:
            return self.shared.get(key, evict=evict)
        if key in member.overlay:
            return member.overlay.pop(key) if evict else member.overlay[key]
        assert member.batch is not None
        if key in member.batch.overlay:
            copy = deepcopy(member.batch.overlay[key])
        else:
            lock = self.repository._use_fastforward_lock(key)
            try:
                with lock:
                    copy = deepcopy(self.shared.get(key))
            finally:
                self.repository._disuse_fastforward_lock(key)
        if not evict:
            member.overlay[key] = copy
        return copy

    def put(self, key: Any, value: Any) -> None:
        member = self._member()
        if member is None:
            self.shared.put(key, value)
        elif value is not None:
            member.overlay[key] = value

    def publish(self, committed: dict[Any, Any]) -> None:
        """Put a committed batch's aggregates in the shared cache, where they are newer."""
        for key, aggregate in committed.items():
            try:
                current = self.shared.get(key)
            except KeyError:
                current = None
            if current is None or current.version < aggregate.version:
                self.shared.put(key, aggregate)
