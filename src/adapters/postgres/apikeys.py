"""API keys: created once with their token shown, stored as a sha256 of the secret.

A token reads `berth_<key_id>_<secret>`. The key id is public (it is the
principal recorded on every event and shown in logs); only a hash of the secret
is kept, so a leaked table grants nothing.

A key's scope is checked against its role when it is made: a gate device's is
the id of a registered facility, a booking key's a channel name (short text that
is not a role's name, since other keys' events carry their role as the channel);
the other roles take none. Rotating gives a key a new secret (same id, role and
scope; the old token stops working); revoking ends it. Who created, rotated and
revoked a key is kept on its row, and every such change is a row of the
append-only `api_key_changes`. A key stored before a rule existed that its scope
breaks is refused at lookup and cannot be rotated (`well_formed`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.utils import get_topic

from berth.domain.error import DomainError, InvalidCommand, NotFound
from berth.domain.facility import Facility

ROLES = ("booking", "operations", "finance", "auditor", "gate_device", "admin")
# Roles whose scope narrows what they may see: a booking key's channel, a gate's facility.
SCOPED_ROLES = frozenset({"booking", "gate_device"})
PREFIX = "berth"
CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
MAX_LABEL = 200
KEY_ID = re.compile(r"[0-9a-f]{16}")
FACILITY_REGISTERED = get_topic(Facility.Registered)
# last_used_at is written at most this often per key (a lookup, not every request, writes it).
LAST_USED_GRAIN = "1 minute"

Connection = psycopg.Connection[Any]
log = logging.getLogger(__name__)


class InvalidKeySpec(InvalidCommand):
    """A key asked for with an unknown role, or a scope its role does not take."""

    code = "invalid-key-spec"


class UnknownKey(NotFound):
    code = "unknown-key"


class KeyRevoked(DomainError):
    """A revoked key cannot be rotated back to life."""

    code = "key-revoked"


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    key_id: str
    role: str
    scope: str
    label: str


@dataclass(frozen=True, kw_only=True)
class KeyRecord:
    """A key as `berth apikey list` and `GET /apikeys` show it: never its secret."""

    key_id: str
    role: str
    scope: str
    label: str
    created_at: datetime
    created_by: str
    rotated_at: datetime | None
    rotated_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"revoked": self.revoked}


_RECORD_COLUMNS = (
    "key_id, role, scope, label, created_at, created_by, rotated_at, rotated_by,"
    " revoked_at, revoked_by, last_used_at"
)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def well_formed(role: str, scope: str) -> bool:
    """Whether a stored key's role and scope still meet today's rules.

    Keys made before a rule existed (a booking key named after a role, which would
    record that role as its events' channel; a gate device with no facility) are
    refused at lookup and cannot be rotated: their holder needs a new key. Whether
    a gate device's facility is registered was checked when the key was made, and a
    facility is never removed.
    """
    if role not in ROLES:
        return False
    if role not in SCOPED_ROLES:
        return scope == ""
    if role == "booking":
        return CHANNEL.fullmatch(scope) is not None and scope not in ROLES
    try:
        return str(UUID(scope)) == scope
    except ValueError:
        return False


def checked_scope(conn: Connection, *, role: str, scope: str) -> str:
    """The scope as stored (a facility id in its canonical form), or InvalidKeySpec."""
    if role not in ROLES:
        raise InvalidKeySpec(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    scope = scope.strip()
    if role not in SCOPED_ROLES:
        if scope:
            raise InvalidKeySpec(f"a {role} key takes no scope; it sees what its role may")
        return ""
    if not scope:
        raise InvalidKeySpec(f"a {role} key needs a --scope (its channel or facility id)")
    if role == "booking":
        if not well_formed(role, scope):
            raise InvalidKeySpec(
                "a booking key's scope is its channel: 1 to 64 letters, digits and . _ : -,"
                f" starting with a letter or digit, and not a role's name; not {scope!r}"
            )
        return scope
    return _facility_scope(conn, scope)


def _facility_scope(conn: Connection, scope: str) -> str:
    try:
        facility_id = UUID(scope)
    except ValueError:
        raise InvalidKeySpec(f"a gate_device key's scope is a facility id, not {scope!r}") from None
    found = conn.execute(
        "SELECT 1 FROM berth_events"
        " WHERE originator_id = %s AND originator_version = 1 AND topic = %s",
        (facility_id, FACILITY_REGISTERED),
    ).fetchone()
    if found is None:
        raise InvalidKeySpec(f"no facility {facility_id} is registered")
    return str(facility_id)


def checked_label(label: str) -> str:
    if len(label) > MAX_LABEL or not label.isprintable():
        raise InvalidKeySpec(f"a label is at most {MAX_LABEL} printable characters")
    return label.strip()


def _new_secret() -> tuple[str, str]:
    """A secret and its hash."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def _token(key_id: str, secret: str) -> str:
    return f"{PREFIX}_{key_id}_{secret}"


def _record_change(conn: Connection, key_id: str, change: str, principal: str) -> None:
    conn.execute(
        "INSERT INTO api_key_changes (key_id, change, principal) VALUES (%s, %s, %s)",
        (key_id, change, principal),
    )


def create_key(
    conn: Connection, *, role: str, scope: str = "", label: str = "", principal: str = ""
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its token (the only time the token exists)."""
    with conn.transaction():
        scope = checked_scope(conn, role=role, scope=scope)
        label = checked_label(label)
        key_id = secrets.token_hex(8)
        secret, secret_hash = _new_secret()
        conn.execute(
            "INSERT INTO api_keys (key_id, secret_hash, role, scope, label, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key_id, secret_hash, role, scope, label, principal),
        )
        _record_change(conn, key_id, "created", principal)
    return ApiKey(key_id=key_id, role=role, scope=scope, label=label), _token(key_id, secret)


def parse_token(token: str) -> tuple[str, str] | None:
    """The key id and secret of a well-formed token, else None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not KEY_ID.fullmatch(key_id) or not secret or len(token) > 200:
        return None
    return key_id, secret


def verify(conn: Connection, token: str) -> ApiKey | None:
    """The live key the token belongs to, or None (unknown, wrong secret, or revoked)."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    key_id, secret = parsed
    row = conn.execute(
        "SELECT secret_hash, role, scope, label FROM api_keys"
        " WHERE key_id = %s AND revoked_at IS NULL",
        (key_id,),
    ).fetchone()
    if row is None:
        return None
    secret_hash, role, scope, label = row
    if not hmac.compare_digest(secret_hash, hash_secret(secret)):
        return None
    if not well_formed(role, scope):
        log.warning(
            "API key %s refused: its %s scope %r no longer meets the rules; make a new key",
            key_id, role, scope,
        )  # fmt: skip
        return None
    conn.execute(
        "UPDATE api_keys SET last_used_at = now() WHERE key_id = %s"
        f" AND (last_used_at IS NULL OR last_used_at < now() - interval '{LAST_USED_GRAIN}')",
        (key_id,),
    )
    return ApiKey(key_id=key_id, role=role, scope=scope, label=label)


def _record(row: tuple[Any, ...]) -> KeyRecord:
    names = [name.strip() for name in _RECORD_COLUMNS.split(",")]
    return KeyRecord(**dict(zip(names, row, strict=True)))


def list_keys(conn: Connection, *, after: str = "", limit: int | None = None) -> list[KeyRecord]:
    """Keys in key id order after `after`, at most `limit` (None: all)."""
    rows = conn.execute(
        f"SELECT {_RECORD_COLUMNS} FROM api_keys WHERE key_id > %s ORDER BY key_id LIMIT %s",
        (after, limit),
    ).fetchall()
    return [_record(row) for row in rows]


def iter_keys(conn: Connection, *, page: int = 1000) -> Iterator[KeyRecord]:
    """Every key, a page at a time (for the CLI)."""
    after = ""
    while records := list_keys(conn, after=after, limit=page):
        yield from records
        after = records[-1].key_id


def key_record(conn: Connection, key_id: str, *, lock: bool = False) -> KeyRecord:
    """The key with that id (its row locked until the transaction ends, if `lock`)."""
    row = None
    if KEY_ID.fullmatch(key_id):
        row = conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM api_keys WHERE key_id = %s"
            + (" FOR UPDATE" if lock else ""),
            (key_id,),
        ).fetchone()
    if row is None:
        raise UnknownKey(f"no API key {key_id[:40]!r}")
    return _record(row)


def _locked(conn: Connection, key_id: str) -> KeyRecord:
    return key_record(conn, key_id, lock=True)


def revoke(conn: Connection, key_id: str, *, principal: str) -> KeyRecord:
    """End the key (a revoked key stays revoked as it was the first time)."""
    with conn.transaction():
        if _locked(conn, key_id).revoked:
            return _locked(conn, key_id)
        conn.execute(
            "UPDATE api_keys SET revoked_at = now(), revoked_by = %s WHERE key_id = %s",
            (principal, key_id),
        )
        _record_change(conn, key_id, "revoked", principal)
        return _locked(conn, key_id)


def rotate(conn: Connection, key_id: str, *, principal: str) -> tuple[KeyRecord, str]:
    """A new secret for the key (same id, role and scope); the old token stops working."""
    with conn.transaction():
        locked = _locked(conn, key_id)
        if locked.revoked:
            raise KeyRevoked(f"API key {key_id} is revoked; create a new one")
        if not well_formed(locked.role, locked.scope):
            raise InvalidKeySpec(
                f"API key {key_id}'s {locked.role} scope {locked.scope!r} no longer meets"
                " the rules; create a new key and revoke this one"
            )
        secret, secret_hash = _new_secret()
        conn.execute(
            "UPDATE api_keys SET secret_hash = %s, rotated_at = now(), rotated_by = %s"
            " WHERE key_id = %s",
            (secret_hash, principal, key_id),
        )
        _record_change(conn, key_id, "rotated", principal)
        return _locked(conn, key_id), _token(key_id, secret)
