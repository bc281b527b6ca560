"""Berth's event store on PostgreSQL: the recorder and the wired command application.

`BerthRecorder` is eventsourcing's PostgreSQL application recorder plus three things:
when a command is saved with an `idempotency` record, that record is inserted in
the same transaction as the events, with the position of the last event and the
id and version of the command's subject (the `subject` the save is given, else
the aggregate of the last event): enough to rebuild the command's answer. Likewise
a `camera_change` (berth.adapters.postgres.gate_cameras): a camera's secret changes in the
transaction of the event that records the change. And it takes the library's table
lock through `berth_lock_events()` (migration 0090), since the application role has
no right that `LOCK TABLE ... IN EXCLUSIVE MODE` needs.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from berth.adapters.postgres import gate_cameras
from berth.adapters.postgres.database import Timeouts, eventsourcing_environment
from berth.adapters.postgres.night_lock import AdvisoryNightLock
from berth.domain.application import Reservations


@dataclass(frozen=True, kw_only=True)
class IdempotencyRecord:
    """The first answer to a command sent with an Idempotency-Key."""

    key_id: str
    idempotency_key: str
    request_hash: str
    status: int
    body: dict[str, Any]


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
        super().__init__(datastore, **kwargs)
        # The library's list is [SET LOCAL lock_timeout, LOCK TABLE ...]: keep the first.
        self.lock_table_statements = [
            *self.lock_table_statements[:1],
            SQL("SELECT public.berth_lock_events()"),
        ]

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


def last_position(url: str, aggregate_id: UUID) -> int:
    """The position of the aggregate's last event (0 if it has none)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COALESCE(MAX(notification_id), 0) FROM berth_events WHERE originator_id = %s",
            (aggregate_id,),
        ).fetchone()
    return int(row[0]) if row else 0


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_reservations(
    url: str,
    *,
    clock: Callable[[], datetime] = utc_now,
    env: dict[str, str] | None = None,
) -> Reservations:
    """The command application on the PostgreSQL at `url`, with advisory night locks.

    Every connection of its pools has bounded connect and statement timeouts
    (`Timeouts`, from the environment: here and in `BerthRecorder`) and is
    checked before use.
    """
    timeouts = Timeouts.from_environ()
    environment = eventsourcing_environment(url, timeouts=timeouts)
    environment["APPLICATION_RECORDER_TOPIC"] = get_topic(BerthRecorder)
    environment.update(env or {})
    return Reservations(
        environment, clock=clock, night_lock=AdvisoryNightLock(url, timeouts=timeouts)
    )
