"""Staff sessions: a random token in a cookie, kept here only as its sha256.

Each session has its own CSRF token, which every form of the screen carries
and every POST must send back. A session ends when its user signs out, or
`SESSION_HOURS` after it began.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from berth.adapters.staff.users import StaffUser

SESSION_HOURS = 12
MAX_TOKEN = 100

Connection = psycopg.Connection[Any]


@dataclass(frozen=True, kw_only=True)
class Session:
    user: StaffUser
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    conn: Connection, *, user: StaffUser, now: datetime, hours: float = SESSION_HOURS
) -> tuple[str, Session]:
    """A new session for `user`: its cookie token (shown once) and the session."""
    token = secrets.token_urlsafe(32)
    session = Session(
        user=user, csrf_token=secrets.token_urlsafe(32), expires_at=now + timedelta(hours=hours)
    )
    with conn.transaction():
        conn.execute("DELETE FROM staff_sessions WHERE expires_at <= %s", (now,))
        conn.execute(
            "INSERT INTO staff_sessions (session_hash, username, csrf_token, created_at,"
            " expires_at) VALUES (%s, %s, %s, %s, %s)",
            (_digest(token), user.username, session.csrf_token, now, session.expires_at),
        )
    return token, session


def find(conn: Connection, *, token: str, now: datetime) -> Session | None:
    """The live session of a cookie's token, if any."""
    if not token or len(token) > MAX_TOKEN:
        return None
    row = conn.execute(
        "SELECT u.username, u.role, s.csrf_token, s.expires_at FROM staff_sessions s"
        " JOIN staff_users u USING (username) WHERE s.session_hash = %s AND s.expires_at > %s",
        (_digest(token), now),
    ).fetchone()
    if row is None:
        return None
    username, role, csrf_token, expires_at = row
    return Session(
        user=StaffUser(username=username, role=role), csrf_token=csrf_token, expires_at=expires_at
    )


def end(conn: Connection, *, token: str) -> None:
    conn.execute("DELETE FROM staff_sessions WHERE session_hash = %s", (_digest(token),))
