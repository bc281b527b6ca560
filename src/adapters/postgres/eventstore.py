"""Berth's event store on PostgreSQL: the recorder and the wired command application.

`BerthRecorder` is eventsourcing's PostgreSQL application recorder plus three things:
when a command is saved with an `idempotency` record, that record is inserted in
the same transaction as the events, with the position of the last event and the
id and version of the command's subject (the `subject` the save is given, else
the aggregate of the last event): enough to rebuild the command's answer. Likewise
a `camera_change` (berth.adapters.postgres.gate_cameras): a camera's secret changes in the
transaction of the event that records the change. And it takes the library's table
lock through `berth_lock_events(lock_timeout_seconds)` (migrations 0090 and 0205),
since the application role has no right that `LOCK TABLE ... IN EXCLUSIVE MODE`
needs; the same statement sets the lock timeout and sends the NOTIFY the library
sends as two more.

A command runs in one transaction on one connection (`command_transaction`, used
by berth.adapters.postgres.night_lock.TransactionNightLock): its first round trip begins
the transaction, takes the command's night locks and reads the new events of the
aggregates it will change; every read of the command is on that connection
(no pool check per read), and the save is one more round trip that commits
(two with an idempotency record, a camera change or a row write, which follow the insert).
With group commit (`open_reservations(group_commit=...)`, BERTH_GROUP_COMMIT), that
transaction is a batch's, shared in turn (berth.adapters.postgres.group_commit).
"""

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import (
    AggregateNotFoundError,
    LRUCache,
    ProcessingEvent,
    Repository,
)
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    EventStore,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    Recording,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.utils import get_topic
from psycopg import Connection, Cursor, Pipeline
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from berth import config
from berth.adapters.postgres import gate_cameras
from berth.adapters.postgres.array_literals import int_array, uuid_array
from berth.adapters.postgres.database import (
    Timeouts,
    check_connection,
    eventsourcing_environment,
)
from berth.adapters.postgres.group_commit import (
    Batch,
    BatchCache,
    GroupCommit,
    GroupCommitFailed,
    Member,
    Writes,
)
from berth.adapters.postgres.night_lock import AdvisoryNightLock, TransactionNightLock
from berth.domain.application import Reservations


@dataclass(frozen=True, kw_only=True)
class IdempotencyRecord:
    """The first answer to a command sent with an Idempotency-Key."""

    key_id: str
    idempotency_key: str
    request_hash: str
    status: int
    body: dict[str, Any]


BEGIN_ATTEMPTS = 10  # as the library retries a read on a lost connection
BEGIN_RETRY_WAIT = 0.2


@dataclass
class _Command(threading.local):
    """The command transaction of this thread, if one is open."""

    conn: Connection[DictRow] | None = None
    # Aggregates read under the command's locks, by id: the version then current.
    current: dict[UUID | str, int] = field(default_factory=dict)
    # Aggregates this thread read outside a command since its last one (a command
    # reads its booking to know which nights to lock): its first round trip reads
    # their new events too.
    recent: dict[UUID, None] = field(default_factory=dict)
    # Aggregates the command's first round trip found nothing of, under its locks
    # (a night never opened): not looked for again until it saved.
    absent: set[UUID | str] = field(default_factory=set)
    # With group commit: this command's place in the batch whose turn it has.
    member: Member | None = None


RECENT_READS = 16


@contextmanager
def _one_sync(conn: Connection[DictRow]) -> Iterator[Pipeline]:
    """A pipeline that syncs once, on leaving it, raising the first failed statement's error.

    After a statement failed, psycopg may report the PipelineAborted of the ones it
    skipped last, on top of the failure itself (then its __context__): the
    failure is what the caller must see (a version conflict, a lock timeout).
    """
    try:
        with conn.pipeline() as pipeline:
            yield pipeline
    except psycopg.errors.PipelineAborted as aborted:
        first = aborted.__context__
        if isinstance(first, psycopg.Error) and not isinstance(
            first, psycopg.errors.PipelineAborted
        ):
            raise first from None
        raise


class BerthRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        # eventsourcing builds its pool's connection arguments from the POSTGRES_*
        # settings alone; its pool has not connected yet, so these reach every
        # connection it makes: bounded connecting and statements, and retries of a
        # lost connection that stay close together (see Timeouts.reconnect).
        timeouts = Timeouts.from_environ()
        pool_kwargs = datastore.pool.kwargs
        assert isinstance(pool_kwargs, dict)
        pool_kwargs.update(timeouts.connection_kwargs())
        datastore.pool.reconnect_timeout = timeouts.reconnect
        # The library checks each connection with a round trip (POSTGRES_PRE_PING): ours
        # makes one only when the server may have closed it (check_connection).
        assert datastore.pool._check is ConnectionPool.check_connection, datastore.pool._check
        datastore.pool._check = check_connection
        super().__init__(datastore, **kwargs)
        send_rows_in_binary(self)
        # The library sends SET LOCAL lock_timeout, LOCK TABLE and NOTIFY before each
        # insert: one function does the three (migration 0205), on this channel.
        assert self.channel_name == "berth_events", self.channel_name
        # Each statement is rendered once, here: psycopg renders a composed one (quoting
        # its names through libpq) at every execute.
        self.lock_table_statements = [
            SQL("SELECT public.berth_lock_events({})")
            .format(Literal(self.datastore.lock_timeout))
            .as_bytes()
        ]
        self.command = _Command()
        self.group: GroupCommit | None = None  # group commit (open_reservations sets it)
        # Every read and write of the library goes through get_connection: in a
        # command, they use the command's connection.
        self._pool_connection = datastore.get_connection
        datastore.get_connection = self._connection  # type: ignore[method-assign]
        table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        # Both are prepared statements, which PostgreSQL soon runs with a generic plan:
        # each id is looked up by an index scan of its own (a LATERAL subquery that
        # OFFSET 0 keeps from being flattened into a join). As a join of unnest() with
        # the events table, the generic plan became a hash join over a sequential scan
        # of the whole table once its statistics showed a hot night's thousands of
        # events: 5 ms per command at 130,000 events, and growing with the table.
        self._new_events_statement = (
            SQL(
                "SELECT e.originator_id, e.originator_version, e.topic, e.state"
                " FROM unnest(%s::uuid[], %s::int[]) AS w(id, version)"
                " CROSS JOIN LATERAL (SELECT * FROM {}.{} AS e"
                "  WHERE e.originator_id = w.id AND e.originator_version > w.version OFFSET 0) AS e"
                " ORDER BY e.originator_id, e.originator_version"
            )
            .format(*table)
            .as_bytes()
        )
        # What rebuilds each aggregate of a list: its latest snapshot (the library's
        # snapshots table, named like the events'), then its events after it.
        assert self.events_table_name.endswith("_events"), self.events_table_name
        snapshots = Identifier(self.events_table_name.removesuffix("_events") + "_snapshots")
        self._whole_statement = (
            SQL(
                "WITH w AS MATERIALIZED (SELECT u.id, s.originator_version AS snapshot,"
                "  s.topic, s.state FROM unnest(%s::uuid[]) AS u(id)"
                "  LEFT JOIN LATERAL (SELECT * FROM {schema}.{snapshots} AS s"
                "   WHERE s.originator_id = u.id ORDER BY s.originator_version DESC LIMIT 1) AS s"
                "  ON true)"
                " SELECT w.id AS originator_id, w.snapshot AS originator_version, w.topic, w.state"
                " FROM w WHERE w.snapshot IS NOT NULL"
                " UNION ALL"
                " SELECT e.originator_id, e.originator_version, e.topic, e.state"
                " FROM w CROSS JOIN LATERAL (SELECT * FROM {schema}.{events} AS e"
                "  WHERE e.originator_id = w.id AND e.originator_version > COALESCE(w.snapshot, 0)"
                "  OFFSET 0) AS e"
                " ORDER BY 1, 2"
            )
            .format(schema=table[0], events=table[1], snapshots=snapshots)
            .as_bytes()
        )

    @contextmanager
    def _connection(self) -> Iterator[Connection[DictRow]]:
        conn = self.command.conn
        if conn is None:
            with self._pool_connection() as conn:
                yield conn
        else:
            try:
                yield conn
            except psycopg.Error as error:  # as the library's own connections report them
                raise _library_error(error) from error

    @contextmanager
    def command_transaction(
        self,
        lock_keys: Sequence[int],
        read_after: Sequence[tuple[UUID, int]],
        whole: Sequence[UUID] = (),
    ) -> Iterator[tuple[list[StoredEvent], dict[UUID, list[StoredEvent]]]]:
        """A transaction holding the advisory locks `lock_keys` (taken in that order).

        Yields the events of the aggregates `read_after` names after the versions
        it gives, and, by id, what rebuilds each of the aggregates `whole` names
        (its latest snapshot, if any, then its events after it; nothing for one
        that does not exist), all read once the locks are held, in the same round
        trip. A save in the block commits it; leaving the block without a save
        rolls it back (and releases the locks). With group commit, in a synced
        batch, `whole` is not read (the command reads those aggregates itself).
        """
        if self.command.conn is not None:
            raise RuntimeError("a command transaction is already open in this thread")
        if self.group is not None:
            with self.group.turn(lock_keys, read_after, whole) as (conn, rows, whole_rows, member):
                self.command.conn, self.command.member = conn, member
                try:
                    events = self._read(read_after, rows)
                    wholes = {} if whole_rows is None else self._read_whole(whole, whole_rows)
                    if member.batch is not None:
                        self._after_earlier_turns(member.batch, wholes)
                    yield events, wholes
                finally:
                    self.command.conn, self.command.member = None, None
                    self.command.current = {}
                    self.command.absent = set()
            return
        stack, conn, rows, whole_rows = self._begin(lock_keys, read_after, whole=whole)
        with stack:
            self.command.conn = conn
            try:
                yield self._read(read_after, rows), self._read_whole(whole, whole_rows)
            finally:
                self.command.conn = None
                self.command.current = {}
                self.command.absent = set()
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    with suppress(psycopg.Error):
                        conn.execute("ROLLBACK")

    def _after_earlier_turns(self, batch: Batch, wholes: dict[UUID, list[StoredEvent]]) -> None:
        """What the batch's first round trip read whole for this command, less what the
        turns before it changed since (a night one of them opened, which the round trip
        found absent): the batch's cache layer has those, as current as its transaction
        (each turn brought its copies up to date in it), unless a turn wrote them (below)."""
        for key in batch.overlay.keys() | batch.written.keys():
            if key in wholes:
                del wholes[key]
                self.command.absent.discard(key)
                layer = batch.overlay.get(key)
                if layer is not None:
                    self.command.current[key] = max(
                        layer.version, self.command.current.get(key, layer.version)
                    )
        # Read before the turns that wrote them: a copy older than what they wrote is
        # brought up to date in the transaction.
        for key, version in batch.written.items():
            if version > self.command.current.get(key, version):
                self.command.current[key] = version

    def _read_whole(
        self, whole: Sequence[UUID], rows: list[DictRow]
    ) -> dict[UUID, list[StoredEvent]]:
        """By id, the snapshot and events read under the locks; now current, or absent."""
        found: dict[UUID, list[StoredEvent]] = {key: [] for key in whole}
        for row in rows:
            found[row["originator_id"]].append(_stored(row))
        for key, stored in found.items():
            if stored:
                self.command.current[key] = stored[-1].originator_version
            else:
                self.command.absent.add(key)
        return found

    def _read(
        self, read_after: Sequence[tuple[UUID, int]], rows: list[DictRow]
    ) -> list[StoredEvent]:
        """The events read under the locks; the aggregates they name are now current."""
        self.command.current = {i: v for i, v in read_after}
        events = [_stored(row) for row in rows]
        for event in events:
            self.command.current[event.originator_id] = event.originator_version
        return events

    def take_recent_reads(self) -> list[UUID]:
        """The aggregates this thread read outside a command since the last one."""
        recent = list(self.command.recent)
        self.command.recent.clear()
        return recent

    def _begin(
        self,
        lock_keys: Sequence[int],
        read_after: Sequence[tuple[UUID, int]],
        *,
        savepoint: str | None = None,
        whole: Sequence[UUID] = (),
    ) -> tuple[ExitStack, Connection[DictRow], list[DictRow], list[DictRow]]:
        """A pooled connection in a transaction holding the locks, and the events read
        (those after `read_after`'s versions, and what rebuilds each of `whole`).

        As the library retries its reads, a connection that cannot be had or was
        lost (the server dropped the pool's connections) is tried again, a bounded
        number of times: nothing has happened yet. A lock not had in the statement
        timeout is not.
        """
        for attempt in range(1, BEGIN_ATTEMPTS + 1):
            stack = ExitStack()
            try:
                try:
                    conn = stack.enter_context(self._pool_connection())
                    with conn.cursor() as curs, conn.cursor() as wholes:
                        # Leaving the pipeline syncs it once and collects every result;
                        # fetching in it would sync twice (a round trip more).
                        with _one_sync(conn):
                            curs.execute("BEGIN")
                            if lock_keys:
                                curs.execute(
                                    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM"
                                    " unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n)"
                                    " ORDER BY n) o",
                                    (int_array(lock_keys),),
                                    prepare=True,
                                )
                            if savepoint is not None:
                                curs.execute(f"SAVEPOINT {savepoint}")
                            curs.execute(
                                self._new_events_statement,
                                _after_versions(read_after),
                                prepare=True,
                            )
                            if whole:
                                wholes.execute(
                                    self._whole_statement, (uuid_array(whole),), prepare=True
                                )
                        return stack, conn, curs.fetchall(), wholes.fetchall() if whole else []
                except BaseException as error:
                    # The pool's context reports it as the library does, and returns the connection.
                    if not stack.__exit__(type(error), error, error.__traceback__):
                        raise
                    raise
            except (InterfaceError, OperationalError) as error:
                if attempt == BEGIN_ATTEMPTS or isinstance(
                    error.__cause__, psycopg.errors.QueryCanceled
                ):
                    raise
                time.sleep(BEGIN_RETRY_WAIT)
        raise AssertionError("unreachable")

    def _read_in_turn(self, conn: Connection[DictRow], member: Member) -> list[DictRow]:
        """A command's first round trip in a batch it did not begin: its savepoint, its reads."""
        try:
            with _one_sync(conn):
                curs = self._queue_turn_read(conn, member)
            return curs.fetchall()  # after the pipeline's one sync
        except psycopg.Error as error:
            raise _library_error(error) from error

    def _queue_turn_read(self, conn: Connection[DictRow], member: Member) -> Cursor[DictRow]:
        """In a pipeline: a command's savepoint and the read of its aggregates' new events."""
        curs = conn.cursor()
        curs.execute(f"SAVEPOINT {member.savepoint}")
        read_after = member.read_after
        curs.execute(
            self._new_events_statement,
            _after_versions(read_after),
            prepare=True,
        )
        return curs

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        """Nothing to send: the table lock's statement sent the NOTIFY (migration 0205)."""

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """As the library's; nothing to read for an aggregate read under the command's locks."""
        if self.command.conn is None and isinstance(originator_id, UUID):
            self.command.recent[originator_id] = None
            if len(self.command.recent) > RECENT_READS:
                del self.command.recent[next(iter(self.command.recent))]
        current = self.command.current.get(originator_id)
        if current is not None and gt is not None and gt >= current and lte is None:
            return []
        events: Sequence[StoredEvent] = super().select_events(
            originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return events

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """In a command transaction: insert and commit in one round trip where possible."""
        conn = self.command.conn
        # (A turn of a pipelined batch saves through _insert_pipelined, whatever the status.)
        pipelined = conn is not None and self.in_pipelined_turn()
        if conn is None or (
            not pipelined and conn.info.transaction_status != TransactionStatus.INTRANS
        ):
            outside: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return outside
        self.command.current = {}  # what the command read is stale once it saved
        self.command.absent = set()
        # Rows written after the insert (they need its position, or must share its
        # transaction: a mail item's outcome): the COMMIT waits for them.
        positioned = (
            isinstance(kwargs.get("idempotency"), IdempotencyRecord)
            or isinstance(kwargs.get("camera_change"), gate_cameras.CameraChange)
            or kwargs.get("row_write") is not None
        )
        member = self.command.member
        batch = member.batch if member is not None else None
        if pipelined and member is not None:
            return self._insert_pipelined(stored_events, kwargs, member, positioned)
        # In a batch: the command's savepoint is released, and the batch committed
        # after its last command.
        ends = (
            ["COMMIT"]
            if batch is None or member is None
            else [
                f"RELEASE SAVEPOINT {member.savepoint}",
                *(["COMMIT"] if batch.is_last(member) else []),
            ]
        )
        # The next command of the batch: its savepoint and reads follow in the same round trip.
        following = self.group.following(member) if self.group and member else None
        ids, reads, error = self._insert_and_end(
            conn, stored_events, kwargs, ends=ends, positioned=positioned, following=following
        )
        if error is not None:
            if member is not None and conn.pgconn.transaction_status != TransactionStatus.INERROR:
                # Not the command's own insert (that leaves the transaction in error, to roll
                # back to its savepoint): the batch's COMMIT or its connection failed.
                lost = _library_error(error) if isinstance(error, psycopg.Error) else error
                assert isinstance(lost, PersistenceError), lost
                self.command.conn = None
                if self.group is not None:
                    self.group.failed(member, lost)
                raise GroupCommitFailed(f"the command's batch was not committed: {lost}") from error
            # A version already taken (IntegrityError) is the conflict the command retries.
            raise _library_error(error) if isinstance(error, psycopg.Error) else error
        if reads is not None and following is not None:
            # Its savepoint and reads are done (a failure of them is this command's, above:
            # it had released its own savepoint, so rolling back to it fails the batch).
            with reads:
                following.prefetched = reads.fetchall()
        committed = "COMMIT" in ends
        if member is not None and self.group is not None:
            self.group.saved(member, committed=committed)
        if committed:
            # What follows (snapshots) uses connections of its own, as outside a command;
            # in a batch not yet committed, they are written in its transaction.
            self.command.conn = None
        return ids

    def in_pipelined_turn(self) -> bool:
        """Whether this thread's command has its turn in a pipelined batch."""
        member = self.command.member
        return member is not None and member.batch is not None and member.batch.pipelined

    def _insert_pipelined(
        self,
        stored_events: Sequence[StoredEvent],
        kwargs: dict[str, Any],
        member: Member,
        positioned: bool,
    ) -> Sequence[int] | None:
        """A turn of a pipelined batch saved: its writes wait for the batch's end, the
        next turn begins at once; the ids once the batch committed (its error if not)."""
        group = self.group
        assert group is not None
        saved: dict[UUID | str, int] = {}
        for event in stored_events:
            saved[event.originator_id] = event.originator_version
        writes: Writes | None = Writes(stored_events, kwargs, positioned)
        try:
            if any(
                getattr(member.overlay.get(key), "version", 0) < version
                for key, version in saved.items()
            ):  # saved without its aggregate (a bare event): the next turns read the store
                member.writes = writes
                group.flush(member)
                writes = None
            return group.released(member, saved, writes)
        finally:
            self.command.conn = None  # committed or lost: what follows uses connections of its own

    def write_batch(
        self, conn: Connection[DictRow], members: Sequence[Member], *, commit: bool
    ) -> None:
        """The saves of a pipelined batch's commands, in one pipeline (with the COMMIT).

        Consecutive saves without rows that need their ids are one insert; each of the
        others is an insert of its own, its rows after a sync. Sets each member's ids;
        raises the first failed statement's error.
        """
        runs: list[list[tuple[Member, Writes]]] = []
        for member in members:
            writes = member.writes
            assert writes is not None
            if runs and not writes.positioned and not runs[-1][-1][1].positioned:
                runs[-1].append((member, writes))
            else:
                runs.append([(member, writes)])
        inserted: list[tuple[list[tuple[Member, Writes]], list[StoredEvent], Cursor[DictRow]]] = []
        with _one_sync(conn) as pipeline:
            for run in runs:
                events = [event for _, writes in run for event in writes.events]
                if not events:
                    continue
                curs = conn.cursor()
                member, first = run[0]
                self._insert_stored_events(curs, events, **first.kwargs)
                if first.positioned:  # (a run of one) its rows need the ids: a sync first
                    pipeline.sync()
                    member.ids = self._fetch_ids_after_insert_events(curs, events, **first.kwargs)
                    curs.close()
                else:
                    inserted.append((run, events, curs))
            if commit:
                conn.execute("COMMIT")
        for run, events, curs in inserted:
            ids = list(self._fetch_ids_after_insert_events(curs, events) or [])
            curs.close()
            for member, writes in run:
                count = len(writes.events)
                member.ids, ids = ids[:count], ids[count:]

    def _insert_and_end(
        self,
        conn: Connection[DictRow],
        stored_events: Sequence[StoredEvent],
        kwargs: dict[str, Any],
        *,
        ends: list[str],
        positioned: bool,
        following: Member | None,
    ) -> tuple[Sequence[int] | None, Cursor[DictRow] | None, Exception | None]:
        """The insert, the statements that end the command and the next one's reads.

        Without rows to write after the insert, everything goes in one sync, the
        pipeline's on leaving it, and the ids are fetched after it. Returns the ids,
        the next command's reads, and the error to raise (the first statement's that
        failed), if any.
        """
        reads: Cursor[DictRow] | None = None
        error: Exception | None = None
        ids: Sequence[int] | None = None
        with conn.cursor() as curs:
            try:
                with _one_sync(conn) as pipeline:
                    try:
                        if stored_events:
                            self._insert_stored_events(curs, stored_events, **kwargs)
                        if positioned:  # its rows need the ids: sync for them first
                            pipeline.sync()
                            if stored_events:
                                ids = self._fetch_ids_after_insert_events(
                                    curs, stored_events, **kwargs
                                )
                        for statement in ends:
                            conn.execute(statement)
                        if following is not None:
                            reads = self._queue_turn_read(conn, following)
                    except Exception as e:  # re-raised once the pipeline is left, as the library
                        error = e
            except psycopg.Error as e:
                # Reported on leaving the pipeline (the first statement that failed), or
                # after an error already caught in it: then that one is raised, and the
                # rollback follows.
                if error is None:
                    error = e
            if error is None and stored_events and not positioned:
                ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        return ids, reads, error

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        record = kwargs.get("idempotency")
        if isinstance(record, IdempotencyRecord):
            last = stored_events[-1] if stored_events else None
            subject_id, subject_version = kwargs.get("subject") or (
                (last.originator_id, last.originator_version) if last else (None, None)
            )
            curs.execute(
                "INSERT INTO idempotency_keys (key_id, idempotency_key, request_hash, status,"
                " body, position, subject_id, subject_version)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    record.key_id,
                    record.idempotency_key,
                    record.request_hash,
                    record.status,
                    Jsonb(record.body),
                    max(ids) if ids else None,
                    subject_id,
                    subject_version,
                ),
            )
        camera_change = kwargs.get("camera_change")
        if isinstance(camera_change, gate_cameras.CameraChange):
            camera_change.write(curs)
        # A row written in the command's own transaction (a partner mail's item outcome and
        # its reply, berth.adapters.mail): anything with write(cursor, subject).
        # (CommandContext.row_write, typed by berth.domain.command_context.RowWrite).
        row_write = kwargs.get("row_write")
        if row_write is not None:
            row_write.write(curs, kwargs.get("subject"))
        return ids


_LIBRARY_ERRORS: list[tuple[type[psycopg.Error], type[PersistenceError]]] = [
    (psycopg.InterfaceError, InterfaceError),
    (psycopg.OperationalError, OperationalError),
    (psycopg.DataError, DataError),
    (psycopg.IntegrityError, IntegrityError),
    (psycopg.InternalError, InternalError),
    (psycopg.ProgrammingError, ProgrammingError),
    (psycopg.NotSupportedError, NotSupportedError),
    (psycopg.DatabaseError, DatabaseError),
]


def _stored(row: DictRow) -> StoredEvent:
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


def _library_error(error: psycopg.Error) -> PersistenceError:
    """The eventsourcing error for a psycopg one, as the library's datastore maps them."""
    for psycopg_error, library_error in _LIBRARY_ERRORS:
        if isinstance(error, psycopg_error):
            return library_error(str(error))
    return PersistenceError(str(error))


def last_position(url: str, aggregate_id: UUID) -> int:
    """The position of the aggregate's last event (0 if it has none)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COALESCE(MAX(notification_id), 0) FROM berth_events WHERE originator_id = %s",
            (aggregate_id,),
        ).fetchone()
    return int(row[0]) if row else 0


class CommandRepository(Repository[UUID]):
    """The library's repository, which in a command does not look again for an
    aggregate its first round trip found nothing of, under its locks (a night
    never opened, which only a command holding its lock can open)."""

    def __init__(self, *args: Any, absent: Callable[[], set[UUID | str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.absent = absent

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        if version is None and aggregate_id in self.absent():
            raise AggregateNotFoundError(aggregate_id)
        return super().get(aggregate_id, version=version, **kwargs)


def _after_versions(read_after: Sequence[tuple[UUID, int]]) -> tuple[str, str]:
    """The new-events read's parameters: the ids, and the version each was read at."""
    return uuid_array(i for i, _ in read_after), int_array(v for _, v in read_after)


def send_rows_in_binary(recorder: PostgresAggregateRecorder) -> None:
    """The recorder's insert sends its rows in binary, not as text.

    As text, psycopg writes each event's state in hex and escapes it twice more in
    Python (once in its row, once in the array of rows): for a busy night's snapshot,
    a few hundred kilobytes, that took milliseconds of the process's interpreter time.
    """
    text = recorder.insert_events_statement.as_string()
    assert text.count("unnest(%s::") == 1, text  # the library's statement, as we know it
    binary = text.replace("unnest(%s::", "unnest(%b::")
    recorder.insert_events_statement = Composed([SQL(binary)])


class PostgresReservations(Reservations):
    """Reservations whose cache also keeps what a command saved, as it committed it.

    The library caches an aggregate when it reads it, not when it saves it (with
    fast-forward on), so the next command on a booking or a night just created
    would read it back whole. A copy is kept (the command's answer shows the
    original); the cache's fast-forward, and the night locks' read of new events,
    start from the cached version, so a cached copy older than the store's is
    brought up to date, never trusted as current.
    """

    name = Reservations.name  # the same tables

    def construct_snapshot_store(self) -> EventStore[UUID]:
        store = super().construct_snapshot_store()
        if isinstance(store.recorder, PostgresAggregateRecorder):
            send_rows_in_binary(store.recorder)
        return store

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, as its settings make it, aware of the command's reads."""
        made = super().construct_repository()
        recorder = self.recorder
        if not isinstance(recorder, BerthRecorder):
            return made
        return CommandRepository(
            made.event_store,
            snapshot_store=made.snapshot_store,
            cache_maxsize=_cache_maxsize(made),
            fastforward=made.fastforward,
            fastforward_skipping=made.fastforward_skipping,
            deepcopy_from_cache=made.deepcopy_from_cache,
            absent=lambda: recorder.command.absent,
        )

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # In a pipelined batch the next command's turn begins inside the insert: it must
        # find this one's aggregates in the batch's cache layer by then.
        recorder = self.recorder
        early = isinstance(recorder, BerthRecorder) and recorder.in_pipelined_turn()
        if early:
            self._cache_saved(processing_event)
        recordings: list[Recording[UUID]] = super()._record(processing_event)
        if not early:
            self._cache_saved(processing_event)
        return recordings

    def _cache_saved(self, processing_event: ProcessingEvent[UUID]) -> None:
        cache = self.repository.cache
        if cache is not None and self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                try:
                    cached = cache.get(aggregate_id)
                except KeyError:
                    cached = None
                if cached is None or cached.version < aggregate.version:
                    cache.put(aggregate_id, deepcopy(aggregate))


def _cache_maxsize(repository: Repository[UUID]) -> int | None:
    """The cache size a repository was made with (None: no cache; 0: unbounded)."""
    if repository.cache is None:
        return None
    return repository.cache.maxsize if isinstance(repository.cache, LRUCache) else 0


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_reservations(
    url: str,
    *,
    clock: Callable[[], datetime] = utc_now,
    env: dict[str, str] | None = None,
    group_commit: bool | None = None,
) -> Reservations:
    """The command application on the PostgreSQL at `url`, with its night locks.

    Every connection of its pools has bounded connect and statement timeouts
    (`Timeouts`, from the environment: here and in `BerthRecorder`) and is
    checked before use. With `group_commit` (default: BERTH_GROUP_COMMIT), the
    commands of this process share transactions (berth.adapters.postgres.group_commit).
    """
    timeouts = Timeouts.from_environ()
    environment = eventsourcing_environment(url, timeouts=timeouts)
    environment["APPLICATION_RECORDER_TOPIC"] = get_topic(BerthRecorder)
    environment.update(env or {})
    reservations = PostgresReservations(environment, clock=clock)
    recorder = reservations.recorder
    if isinstance(recorder, BerthRecorder):
        reservations.night_lock = TransactionNightLock(reservations, recorder)
        settings = config.load()
        if settings.group_commit if group_commit is None else group_commit:
            recorder.group = GroupCommit(recorder, parallel=settings.group_commit_batches)
            repository = reservations.repository
            if repository.cache is not None:
                recorder.group.cache = BatchCache(repository.cache, repository, recorder.group)
                repository.cache = recorder.group.cache
    else:  # another recorder (the library's, in tests of old schemas): locks of their own
        reservations.night_lock = AdvisoryNightLock(url, timeouts=timeouts)
    return reservations
