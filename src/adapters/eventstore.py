"""Berth's event store on PostgreSQL: the recorder and the wired command application.

`BerthRecorder` is eventsourcing's PostgreSQL application recorder plus one thing:
when a command is saved with an `idempotency` record, that record is inserted in
the same transaction as the events, with the position of the last event.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from berth.adapters.database import Timeouts, eventsourcing_environment
from berth.adapters.night_lock import AdvisoryNightLock
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

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        record = kwargs.get("idempotency")
        if isinstance(record, IdempotencyRecord):
            curs.execute(
                "INSERT INTO idempotency_keys"
                " (key_id, idempotency_key, request_hash, status, body, position)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    record.key_id,
                    record.idempotency_key,
                    record.request_hash,
                    record.status,
                    Jsonb(record.body),
                    max(ids) if ids else None,
                ),
            )
        return ids


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
