"""The delivery outbox, `webhook_deliveries`: planned with the position, sent, logged.

`plan` writes a page's deliveries and moves the subscriptions' positions in
one transaction, each compared-and-set against the position the page was read
after: a crash loses nothing and plans nothing twice, and a replay or a pause
that moved the subscription meanwhile makes the page be read again. Planning an
event whose delivery was already made (a replay) marks it pending again.

`due` gives what may be sent now, in position order: pending, its retry time
passed, and no earlier pending delivery of the same booking (the ordering key),
so a booking's events reach the receiver one at a time and in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

import psycopg

from berth.adapters.webhooks import subscriptions
from berth.adapters.webhooks.sender import Outcome
from berth.projections.webhook_events import PING

Connection = psycopg.Connection[Any]
WEBHOOK_ID_NAMESPACE = UUID("0b6f9a4e-2d1c-5e83-9f47-3a8c6d2e1b05")


def webhook_id(subscription_id: UUID, event_id: UUID) -> UUID:
    """The webhook-id of an event's delivery to a subscription: the same on every attempt."""
    return uuid5(WEBHOOK_ID_NAMESPACE, f"{subscription_id}:{event_id}")


@dataclass(frozen=True)
class Planned:
    webhook_id: UUID
    position: int
    ordering_key: str
    event_type: str
    payload: str


@dataclass(frozen=True)
class Due:
    subscription_id: UUID
    webhook_id: UUID
    position: int
    ordering_key: str
    event_type: str
    payload: str
    attempts: int


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    seq: int
    webhook_id: UUID
    position: int
    event_type: str
    status: str
    attempts: int
    replays: int
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_code: int | None
    latency_ms: float | None
    response_body: str | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        shown = asdict(self)
        if self.status == "pending" and self.attempts:
            shown["status"] = "retrying"
        if self.status != "pending":
            shown["next_attempt_at"] = None
        return shown


def plan(
    conn: Connection, *, moves: dict[UUID, int], position: int,
    planned: Mapping[UUID, Sequence[Planned]],
) -> set[UUID]:  # fmt: skip
    """Move each subscription of `moves` from its position there to `position`, adding its
    `planned` deliveries, in one transaction; answers those moved.

    A subscription that is no longer at that position, or no longer active (a
    replay, a pause), is left as it is and gets none of its planned rows.
    """
    with conn.transaction(), conn.cursor() as cur:
        moved: set[UUID] = set()
        for subscription_id, after in moves.items():
            row = cur.execute(
                "UPDATE webhook_subscriptions SET position = %s"
                " WHERE subscription_id = %s AND position = %s AND state = 'active'"
                " RETURNING subscription_id",
                (position, subscription_id, after),
            ).fetchone()
            if row is not None:
                moved.add(subscription_id)
        rows = [
            (subscription_id, p.webhook_id, p.position, p.ordering_key, p.event_type, p.payload)
            for subscription_id in moved
            for p in planned.get(subscription_id, ())
        ]
        if rows:
            cur.executemany(
                "INSERT INTO webhook_deliveries (subscription_id, webhook_id, position,"
                " ordering_key, event_type, payload) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (subscription_id, webhook_id) DO UPDATE"
                " SET status = 'pending', replays = webhook_deliveries.replays + 1,"
                " next_attempt_at = now(), first_attempt_at = NULL"
                " WHERE webhook_deliveries.status <> 'pending'",
                rows,
            )
    return moved


def due(
    conn: Connection, subscription_id: UUID, *, exclude: Sequence[UUID], limit: int
) -> list[Due]:
    """Deliveries to send now, oldest first, at most one per booking, none of `exclude`;
    none while the subscription is not active (paused, or disabled a moment ago)."""
    with conn.transaction():
        rows = conn.execute(
            "SELECT d.webhook_id, d.position, d.ordering_key, d.event_type, d.payload, d.attempts"
            " FROM webhook_deliveries d"
            " WHERE d.subscription_id = %s AND d.status = 'pending' AND d.next_attempt_at <= now()"
            " AND d.webhook_id <> ALL(%s)"
            " AND EXISTS (SELECT 1 FROM webhook_subscriptions s"
            "   WHERE s.subscription_id = d.subscription_id AND s.state = 'active')"
            " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e"
            "   WHERE e.subscription_id = d.subscription_id AND e.status = 'pending'"
            "   AND e.ordering_key = d.ordering_key AND e.position < d.position)"
            " ORDER BY d.position, d.seq LIMIT %s",
            (subscription_id, list(exclude), limit),
        ).fetchall()
    return [Due(subscription_id, *row) for row in rows]


def _result_columns(outcome: Outcome) -> tuple[Any, ...]:
    return (outcome.status, round(outcome.latency_ms, 3), outcome.body, outcome.error or None)


def record_delivered(conn: Connection, item: Due, outcome: Outcome) -> None:
    """Mark the delivery made and the subscription well again, in one statement."""
    conn.execute(
        "WITH made AS (UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(),"
        " attempts = attempts + 1, last_attempt_at = now(),"
        " first_attempt_at = COALESCE(first_attempt_at, now()),"
        " response_code = %s, latency_ms = %s, response_body = %s, error = %s"
        " WHERE subscription_id = %s AND webhook_id = %s AND status = 'pending'"
        " RETURNING subscription_id)"
        " UPDATE webhook_subscriptions SET failing_since = NULL"
        " WHERE subscription_id IN (SELECT subscription_id FROM made)"
        " AND failing_since IS NOT NULL",
        (*_result_columns(outcome), item.subscription_id, item.webhook_id),
    )
    if not conn.autocommit:
        conn.commit()


@dataclass(frozen=True)
class Failed:
    """What a failed attempt came to."""

    gave_up: bool  # the delivery is failed: it is not tried again (unless replayed)
    disabled: str | None  # why, when this failure disabled the subscription


def record_failed(
    conn: Connection, item: Due, outcome: Outcome, *, retry_in: float, retry_for: float
) -> Failed:
    """Count a failed attempt and set the next; whether it gave up, and disabled the subscription.

    A delivery failing for longer than `retry_for` seconds is given up (failed); a
    subscription that has had no success for that long is disabled.
    """
    with conn.transaction():
        status = conn.execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(),"
            " first_attempt_at = COALESCE(first_attempt_at, now()),"
            " response_code = %s, latency_ms = %s, response_body = %s, error = %s,"
            " status = CASE WHEN COALESCE(first_attempt_at, now())"
            "   <= now() - make_interval(secs => %s) THEN 'failed' ELSE 'pending' END,"
            " next_attempt_at = now() + make_interval(secs => %s)"
            " WHERE subscription_id = %s AND webhook_id = %s AND status = 'pending'"
            " RETURNING status",
            (*_result_columns(outcome), retry_for, retry_in, item.subscription_id,
             item.webhook_id),
        ).fetchone()  # fmt: skip
        gave_up = status is not None and status[0] == "failed"
        reason = f"no delivery succeeded for {retry_for:.0f} s; last: {outcome.error}"[:500]
        row = conn.execute(
            "UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, now()),"
            " state = CASE WHEN state = 'active' AND failing_since"
            "   <= now() - make_interval(secs => %s) THEN 'disabled' ELSE state END"
            " WHERE subscription_id = %s RETURNING state",
            (retry_for, item.subscription_id),
        ).fetchone()
        if row is None or row[0] != "disabled":
            return Failed(gave_up, None)
        disabled = conn.execute(
            "UPDATE webhook_subscriptions SET disabled_at = now(), disabled_reason = %s,"
            " updated_at = now() WHERE subscription_id = %s AND disabled_at IS NULL"
            " RETURNING subscription_id",
            (reason, item.subscription_id),
        ).fetchone()
    return Failed(gave_up, reason if disabled is not None else None)


def ping(
    conn: Connection,
    subscription_id: UUID,
    *,
    scope: str | None,
    correlation_id: str,
    now: datetime,
) -> UUID:
    """Queue a `webhook.ping` for the subscription (sent by the worker, logged like any)."""
    with conn.transaction():
        found = subscriptions.get(conn, subscription_id, scope=scope)
        identity = uuid4()
        body = {
            "type": PING,
            "timestamp": now.isoformat(),
            "position": found.position,
            "correlation_id": correlation_id,
            "data": {"subscription_id": str(subscription_id)},
        }
        conn.execute(
            "INSERT INTO webhook_deliveries (subscription_id, webhook_id, position,"
            " ordering_key, event_type, payload) VALUES (%s, %s, %s, %s, %s, %s)",
            (subscription_id, identity, found.position, f"ping:{identity}", PING,
             json.dumps(body, separators=(",", ":"))),
        )  # fmt: skip
        conn.execute("SELECT pg_notify(%s, %s)", (subscriptions.WAKEUP_CHANNEL, str(identity)))
    return identity


_LOG_COLUMNS = (
    "seq, webhook_id, position, event_type, status, attempts, replays, next_attempt_at,"
    " first_attempt_at, last_attempt_at, response_code, latency_ms, response_body, error,"
    " created_at, delivered_at"
)
_LOG_NAMES = [name.strip() for name in _LOG_COLUMNS.split(",")]


def log_page(
    conn: Connection,
    subscription_id: UUID,
    *,
    before: int | None,
    limit: int,
    status: str | None = None,
) -> list[LogEntry]:
    """The subscription's deliveries, newest first, before `before` (a seq), at most `limit`."""
    rows = conn.execute(
        f"SELECT {_LOG_COLUMNS} FROM webhook_deliveries WHERE subscription_id = %s"
        " AND (%s::bigint IS NULL OR seq < %s) AND (%s::text IS NULL OR status = %s)"
        " ORDER BY seq DESC LIMIT %s",
        (subscription_id, before, before, status, status, limit),
    ).fetchall()
    return [LogEntry(**dict(zip(_LOG_NAMES, row, strict=True))) for row in rows]


def counts(conn: Connection, subscription_id: UUID) -> dict[str, int]:
    """How many deliveries the subscription has per status (pending, delivered, failed)."""
    rows = conn.execute(
        "SELECT status, count(*) FROM webhook_deliveries WHERE subscription_id = %s"
        " GROUP BY status",
        (subscription_id,),
    ).fetchall()
    found = {str(status): int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in ("pending", "delivered", "failed")}


def prune(conn: Connection, *, older_than: float) -> int:
    """Forget delivered and given-up deliveries older than `older_than` seconds; how many."""
    with conn.transaction():
        cur = conn.execute(
            "DELETE FROM webhook_deliveries WHERE status <> 'pending'"
            " AND COALESCE(delivered_at, last_attempt_at, created_at)"
            " < now() - make_interval(secs => %s)",
            (older_than,),
        )
    return cur.rowcount
