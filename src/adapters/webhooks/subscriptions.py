"""Webhook subscriptions: tenant data in `webhook_subscriptions`, made and changed by the API.

A subscription belongs to a channel: a booking key's subscriptions are its
channel's, and it sees, changes and hears of nothing else; an admin's may name a
channel or none (every channel). Lookups take the caller's `scope`, the channel
a booking key acts for or None for an admin, so another channel's subscription
is answered as not found.

The signing secret is made here and returned by `create` and `rotate_secret`
only: like a camera's secret it is kept as it is (an HMAC needs it), and no
other answer shows it. `rotate_secret` keeps the secret before valid for a grace
(the worker signs with both meanwhile) and records who rotated it and when.
A new subscription starts at the head of the store; `replay` moves it back.
States: active (followed and sent), paused (neither, until resumed), disabled
(by the worker, after failing for too long; PATCH state=active resumes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg

from berth.adapters.webhooks import addresses, sender
from berth.domain.error import InvalidCommand, NotFound
from berth.projections.webhook_events import DEFAULT_EVENT_TYPES, EVENT_TYPES

Connection = psycopg.Connection[Any]
WAKEUP_CHANNEL = "berth_webhooks"  # NOTIFYed when deliveries are due now (ping, replay)
STATES = ("active", "paused", "disabled")
SETTABLE_STATES = ("active", "paused")
MAX_DESCRIPTION = 200
MAX_GRACE_SECONDS = 30 * 24 * 3600  # the old secret signs too for at most 30 days
DEFAULT_GRACE_SECONDS = 24 * 3600


class InvalidSubscription(InvalidCommand):
    code = "invalid-webhook-subscription"


class UnknownSubscription(NotFound):
    code = "unknown-webhook-subscription"


@dataclass(frozen=True, kw_only=True)
class Subscription:
    subscription_id: UUID
    channel: str | None
    url: str
    event_types: list[str]
    description: str
    state: str
    position: int
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    previous_valid_until: datetime | None  # the secret before the last rotation signs till then
    secret_rotated_at: datetime | None
    secret_rotated_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = (
    "subscription_id, channel, url, event_types, description, state, position, failing_since,"
    " disabled_at, disabled_reason, created_at, created_by, updated_at, previous_valid_until,"
    " secret_rotated_at, secret_rotated_by"
)
_NAMES = [name.strip() for name in _COLUMNS.split(",")]


def _subscription(row: Sequence[Any]) -> Subscription:
    return Subscription(**dict(zip(_NAMES, row, strict=True)))


def checked_event_types(event_types: Sequence[str] | None) -> list[str]:
    """The types asked for, each known, in EVENT_TYPES order; the booking ones if none asked."""
    if event_types is None:
        return list(DEFAULT_EVENT_TYPES)
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown or not event_types:
        raise InvalidSubscription(
            f"event_types are one or more of {', '.join(EVENT_TYPES)}"
            + (f"; not {', '.join(repr(t[:40]) for t in unknown[:5])}" if unknown else "")
        )
    return [t for t in EVENT_TYPES if t in set(event_types)]


def checked_channel(*, scope: str | None, channel: str | None) -> str | None:
    """A booking key's subscription is its channel's; an admin's names one or none."""
    if scope is None:
        return channel or None
    if channel not in (None, "", scope):
        raise InvalidSubscription(f"a booking key subscribes for its own channel {scope!r} only")
    return scope


def _head(conn: Connection) -> int:
    row = conn.execute("SELECT COALESCE(max(notification_id), 0) FROM berth_events").fetchone()
    return int(row[0]) if row else 0


def create(
    conn: Connection,
    *,
    scope: str | None,
    channel: str | None,
    url: str,
    event_types: Sequence[str] | None,
    description: str,
    principal: str,
    private_ok: bool,
) -> tuple[Subscription, str]:
    """Store a subscription starting at the head of the store; return it and its secret."""
    url = addresses.checked_url(url, private_ok=private_ok)
    types = checked_event_types(event_types)
    owner = checked_channel(scope=scope, channel=channel)
    secret = sender.new_secret()
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO webhook_subscriptions (subscription_id, channel, url, event_types,"
            " description, secret, position, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            f" RETURNING {_COLUMNS}",
            (uuid4(), owner, url, types, description.strip(), secret, _head(conn), principal),
        ).fetchone()
    assert row is not None
    return _subscription(row), secret


def get(
    conn: Connection, subscription_id: UUID, *, scope: str | None, lock: bool = False
) -> Subscription:
    """The subscription, if the caller's scope sees it; else UnknownSubscription."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE subscription_id = %s"
        " AND (%s::text IS NULL OR channel = %s)" + (" FOR UPDATE" if lock else ""),
        (subscription_id, scope, scope),
    ).fetchone()
    if row is None:
        raise UnknownSubscription(f"no webhook subscription {subscription_id}")
    return _subscription(row)


def signing_secrets(conn: Connection, subscription_id: UUID) -> list[str]:
    """The secrets that sign a delivery now, newest first: the current one, and the one before
    while its grace lasts (for the worker only; never answered)."""
    row = conn.execute(
        "SELECT secret, CASE WHEN previous_valid_until > now() THEN previous_secret END"
        " FROM webhook_subscriptions WHERE subscription_id = %s",
        (subscription_id,),
    ).fetchone()
    if row is None:
        raise UnknownSubscription(f"no webhook subscription {subscription_id}")
    return [str(secret) for secret in row if secret is not None]


def rotate_secret(
    conn: Connection,
    subscription_id: UUID,
    *,
    scope: str | None,
    grace_seconds: int,
    principal: str,
) -> tuple[Subscription, str]:
    """Give the subscription a new secret; the current one signs too for `grace_seconds`.

    Answers the subscription and the new secret. A grace of 0 revokes the current
    secret (and any earlier one still in its grace) at once; a rotation within a
    grace drops the oldest secret, the one being replaced signing beside the new.
    """
    if isinstance(grace_seconds, bool) or not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise InvalidSubscription(f"grace_seconds is 0 to {MAX_GRACE_SECONDS}")
    secret = sender.new_secret()
    with conn.transaction():
        get(conn, subscription_id, scope=scope, lock=True)
        row = conn.execute(
            "UPDATE webhook_subscriptions SET"
            " previous_secret = CASE WHEN %(grace)s > 0 THEN secret END,"
            " previous_valid_until = CASE WHEN %(grace)s > 0"
            "   THEN now() + make_interval(secs => %(grace)s) END,"
            " secret = %(secret)s, secret_rotated_at = now(), secret_rotated_by = %(principal)s,"
            " updated_at = now()"
            f" WHERE subscription_id = %(id)s RETURNING {_COLUMNS}",
            {"grace": grace_seconds, "secret": secret, "principal": principal,
             "id": subscription_id},
        ).fetchone()  # fmt: skip
    assert row is not None
    return _subscription(row), secret


def list_page(
    conn: Connection, *, scope: str | None, after: UUID | None, limit: int
) -> list[Subscription]:
    """Subscriptions the scope sees, in id order after `after`, at most `limit`."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM webhook_subscriptions"
        " WHERE (%s::text IS NULL OR channel = %s) AND (%s::uuid IS NULL OR subscription_id > %s)"
        " ORDER BY subscription_id LIMIT %s",
        (scope, scope, after, after, limit),
    ).fetchall()
    return [_subscription(row) for row in rows]


def update(
    conn: Connection,
    subscription_id: UUID,
    *,
    scope: str | None,
    changes: dict[str, Any],
    private_ok: bool,
) -> Subscription:
    """Change url, event_types, description or state (active or paused) of a subscription."""
    with conn.transaction():
        current = get(conn, subscription_id, scope=scope, lock=True)
        url = addresses.checked_url(changes.get("url", current.url), private_ok=private_ok)
        types = checked_event_types(changes.get("event_types", current.event_types))
        description = str(changes.get("description", current.description)).strip()
        state = changes.get("state", current.state)
        if state not in SETTABLE_STATES and state != current.state:
            raise InvalidSubscription(f"state is one of {', '.join(SETTABLE_STATES)}")
        resumed = state == "active" and current.state != "active"
        row = conn.execute(
            "UPDATE webhook_subscriptions SET url = %s, event_types = %s, description = %s,"
            " state = %s, updated_at = now(),"
            " failing_since = CASE WHEN %s THEN NULL ELSE failing_since END,"
            " disabled_at = CASE WHEN %s THEN NULL ELSE disabled_at END,"
            " disabled_reason = CASE WHEN %s THEN NULL ELSE disabled_reason END"
            f" WHERE subscription_id = %s RETURNING {_COLUMNS}",
            (url, types, description, state, resumed, resumed, resumed, subscription_id),
        ).fetchone()
        if resumed:
            conn.execute("SELECT pg_notify(%s, %s)", (WAKEUP_CHANNEL, str(subscription_id)))
    assert row is not None
    return _subscription(row)


def delete(conn: Connection, subscription_id: UUID, *, scope: str | None) -> None:
    """Remove the subscription and its delivery log."""
    with conn.transaction():
        get(conn, subscription_id, scope=scope, lock=True)
        conn.execute(
            "DELETE FROM webhook_subscriptions WHERE subscription_id = %s", (subscription_id,)
        )


def replay(
    conn: Connection, subscription_id: UUID, *, scope: str | None, from_position: int
) -> Subscription:
    """Plan again every wanted event from `from_position` on: they are sent again, same ids.

    The subscription's position moves back to just before `from_position` (never
    forward: that would skip events); the worker plans the events again, and a
    delivery already made is sent once more.
    """
    with conn.transaction():
        get(conn, subscription_id, scope=scope, lock=True)
        row = conn.execute(
            "UPDATE webhook_subscriptions SET position = LEAST(position, %s), updated_at = now()"
            f" WHERE subscription_id = %s RETURNING {_COLUMNS}",
            (max(from_position - 1, 0), subscription_id),
        ).fetchone()
        conn.execute("SELECT pg_notify(%s, %s)", (WAKEUP_CHANNEL, str(subscription_id)))
    assert row is not None
    return _subscription(row)


def active(conn: Connection) -> list[Subscription]:
    """Every active subscription (what the worker follows and sends)."""
    with conn.transaction():
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE state = 'active'"
            " ORDER BY subscription_id"
        ).fetchall()
    return [_subscription(row) for row in rows]
