"""The pools' check of a connection before lending it: a round trip only when it may be gone."""

from __future__ import annotations

import select
import time

import psycopg
import pytest

from berth.adapters.postgres.database import check_connection
from berth.adapters.postgres.eventstore import BerthRecorder, open_reservations


def last_statement(db_url: str, pid: int) -> str:
    """What the server last ran for that backend (pg_stat_activity, seen from another session)."""
    with psycopg.connect(db_url, autocommit=True) as other:
        row = other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_connection_with_nothing_waiting_is_lent_without_a_round_trip(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT 'the last statement'")

        check_connection(conn)

        assert last_statement(db_url, conn.info.backend_pid) == "SELECT 'the last statement'"


def test_a_connection_the_server_closed_fails_the_check(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        with psycopg.connect(db_url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        select.select([conn.fileno()], [], [], 5)  # the server's goodbye arrives

        with pytest.raises(psycopg.OperationalError):
            check_connection(conn)


def test_a_connection_with_a_notification_waiting_is_checked_and_still_lent(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("LISTEN berth_check_test")
        with psycopg.connect(db_url, autocommit=True) as other:
            other.execute("NOTIFY berth_check_test")
        deadline = time.monotonic() + 5
        while not select.select([conn.fileno()], [], [], 0.05)[0]:
            assert time.monotonic() < deadline, "no notification arrived"

        check_connection(conn)  # a round trip, which reads what was waiting

        assert last_statement(db_url, conn.info.backend_pid) == ""
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_event_stores_pool_uses_the_check(db_url: str) -> None:
    app = open_reservations(db_url)
    try:
        recorder = app.recorder
        assert isinstance(recorder, BerthRecorder)
        assert recorder.datastore.pool._check is check_connection
    finally:
        app.close()
