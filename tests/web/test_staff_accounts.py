"""`berth user create`, the argon2 hashes it stores, and what the application role may do."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import psycopg
import pytest

from berth import cli
from berth.adapters.staff import users

NOW = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)


def test_user_create_stores_an_argon2_hash_and_the_user_signs_in(
    app_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", app_db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    cli.main(["user", "create", "gate.staff", "--role", "operations"])
    assert json.loads(capsys.readouterr().out) == {"username": "gate.staff", "role": "operations"}
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        (digest,) = conn.execute(
            "SELECT password_hash FROM staff_users WHERE username = 'gate.staff'"
        ).fetchone() or ("",)
        assert digest.startswith("$argon2id$") and "a long enough secret" not in digest
        signed = users.sign_in(
            conn, username="gate.staff", password="a long enough secret", now=NOW
        )
    assert signed.user == users.StaffUser(username="gate.staff", role="operations")


@pytest.mark.parametrize(
    ("username", "role", "password"),
    [
        ("Bad Name", "operations", "a long enough secret"),
        ("ok", "booking", "a long enough secret"),  # machines' roles are API keys' only
        ("ok", "admin", "short"),
        ("ok", "admin", "has a\x00nul character"),
    ],
)
def test_a_bad_user_is_refused_and_stores_nothing(
    app_db_url: str, username: str, role: str, password: str
) -> None:
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        with pytest.raises(users.InvalidStaffUser):
            users.create_user(conn, username=username, role=role, password=password)
        assert conn.execute("SELECT count(*) FROM staff_users").fetchone() == (0,)


def test_a_username_is_taken_once(app_db_url: str) -> None:
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        users.create_user(conn, username="ada", role="admin", password="first password!")
        with pytest.raises(users.StaffUserExists):
            users.create_user(conn, username="ada", role="finance", password="second password")
        assert conn.execute("SELECT role FROM staff_users").fetchall() == [("admin",)]


def test_the_application_role_cannot_delete_a_staff_user(app_db_url: str) -> None:
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        users.create_user(conn, username="ada", role="admin", password="first password!")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM staff_users")
