"""Staff accounts: a username, a role and an argon2id hash of the password.

`sign_in` checks a password and counts failures: after `MAX_FAILURES` in a row
the account is locked for `LOCK_MINUTES`, and a right password is refused too
until the lock ends (so guessing gains nothing). Every sign-in, good or bad,
takes the account's row lock, so concurrent guesses are all counted. An unknown
username costs a hash as well, so the answer's time does not tell names apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from berth.domain.bounds import text_problem
from berth.domain.error import InvalidCommand

ROLES = ("operations", "finance", "auditor", "admin")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
MAX_FAILURES = 5
LOCK_MINUTES = 15

Connection = psycopg.Connection[Any]
_hasher = PasswordHasher()
# Verified against for unknown usernames, so they take as long as known ones.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class InvalidStaffUser(InvalidCommand):
    code = "invalid-staff-user"


class StaffUserExists(InvalidCommand):
    code = "staff-user-exists"


@dataclass(frozen=True, kw_only=True)
class StaffUser:
    username: str
    role: str


@dataclass(frozen=True, kw_only=True)
class SignIn:
    """What a sign-in came to: the user, or why not (`locked_until` when locked)."""

    user: StaffUser | None
    locked_until: datetime | None = None


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise InvalidStaffUser(
            "a username is 2 to 64 lower-case letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return username


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidStaffUser(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    problem = text_problem(password)
    if problem:
        raise InvalidStaffUser(f"the password {problem}")
    return password


def create_user(conn: Connection, *, username: str, role: str, password: str) -> StaffUser:
    check_username(username)
    if role not in ROLES:
        raise InvalidStaffUser(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    digest = _hasher.hash(check_password(password))
    with conn.transaction():
        inserted = conn.execute(
            "INSERT INTO staff_users (username, role, password_hash) VALUES (%s, %s, %s)"
            " ON CONFLICT (username) DO NOTHING",
            (username, role, digest),
        )
        if inserted.rowcount == 0:
            raise StaffUserExists(f"there is already a staff user {username!r}")
    return StaffUser(username=username, role=role)


def sign_in(conn: Connection, *, username: str, password: str, now: datetime) -> SignIn:
    """Check `password`; count a failure, lock after MAX_FAILURES, reset on success."""
    if not USERNAME.fullmatch(username) or len(password) > MAX_PASSWORD:
        _verify(_DUMMY_HASH, password[:MAX_PASSWORD])
        return SignIn(user=None)
    with conn.transaction():
        row = conn.execute(
            "SELECT role, password_hash, failed_attempts, locked_until FROM staff_users"
            " WHERE username = %s FOR UPDATE",
            (username,),
        ).fetchone()
        if row is None:
            _verify(_DUMMY_HASH, password)
            return SignIn(user=None)
        role, digest, failures, locked_until = row
        if locked_until is not None and locked_until > now:
            return SignIn(user=None, locked_until=locked_until)
        if not _verify(digest, password):
            failures = 0 if locked_until is not None else failures
            failures += 1
            lock = now + timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
            conn.execute(
                "UPDATE staff_users SET failed_attempts = %s, locked_until = %s"
                " WHERE username = %s",
                (0 if lock else failures, lock, username),
            )
            return SignIn(user=None, locked_until=lock)
        rehashed = _hasher.hash(password) if _hasher.check_needs_rehash(digest) else digest
        conn.execute(
            "UPDATE staff_users SET failed_attempts = 0, locked_until = NULL,"
            " last_sign_in_at = %s, password_hash = %s WHERE username = %s",
            (now, rehashed, username),
        )
    return SignIn(user=StaffUser(username=username, role=role))


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False
