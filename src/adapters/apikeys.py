"""API keys: created once with their token shown, stored as a sha256 of the secret.

A token reads `berth_<key_id>_<secret>`. The key id is public (it is the
principal recorded on every event and shown in logs); only a hash of the secret
is kept, so a leaked table grants nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg

ROLES = ("booking", "operations", "finance", "auditor", "gate_device", "admin")
# Roles whose scope narrows what they may see: a booking key's channel, a gate's facility.
SCOPED_ROLES = frozenset({"booking", "gate_device"})
PREFIX = "berth"

Connection = psycopg.Connection[Any]


class InvalidKeySpec(ValueError):
    """A key asked for with an unknown role or a missing scope."""


@dataclass(frozen=True, kw_only=True)
class ApiKey:
    key_id: str
    role: str
    scope: str
    label: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    conn: Connection, *, role: str, scope: str = "", label: str = ""
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its token (the only time the token exists)."""
    if role not in ROLES:
        raise InvalidKeySpec(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    scope = scope.strip()
    if role in SCOPED_ROLES and not scope:
        raise InvalidKeySpec(f"a {role} key needs a --scope (its channel or facility id)")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO api_keys (key_id, secret_hash, role, scope, label)"
        " VALUES (%s, %s, %s, %s, %s)",
        (key_id, hash_secret(secret), role, scope, label),
    )
    return ApiKey(key_id=key_id, role=role, scope=scope, label=label), f"{PREFIX}_{key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """The key id and secret of a well-formed token, else None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret or len(token) > 200:
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
    return ApiKey(key_id=key_id, role=role, scope=scope, label=label)


def revoke(conn: Connection, key_id: str) -> bool:
    found = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL",
        (key_id,),
    )
    return found.rowcount == 1
