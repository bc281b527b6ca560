"""The one statement before each insert (migration 0205): the events table's lock, taken
within the lock timeout, and the NOTIFY that wakes the projection workers."""

from __future__ import annotations

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from test_command_transaction import hold, make_pool

from berth.adapters.postgres.event_wakeups import EVENTS_CHANNEL as CHANNEL
from berth.adapters.postgres.eventstore import open_reservations


def events(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM berth_events").fetchone()
    assert row is not None
    return int(row[0])


def test_a_save_waits_for_the_events_tables_lock_no_longer_than_the_lock_timeout(db_url: str):
    app = open_reservations(db_url, group_commit=False, env={"POSTGRES_LOCK_TIMEOUT": "1"})
    try:
        pool_id = make_pool(app, capacity=5)
        before = events(db_url)
        with psycopg.connect(db_url) as other:
            other.execute("LOCK TABLE berth_events IN EXCLUSIVE MODE")
            with pytest.raises(OperationalError) as raised:
                hold(app, pool_id)
        # (Were the timeout not set, the statement timeout would end the wait.)
        assert "canceling statement due to lock timeout" in str(raised.value), raised.value
        assert events(db_url) == before
        hold(app, pool_id)  # the lock given back, the next save goes through
        assert events(db_url) > before
    finally:
        app.close()


def test_a_save_notifies_the_events_channel_once_when_it_commits(db_url: str):
    app = open_reservations(db_url, group_commit=False)
    try:
        pool_id = make_pool(app, capacity=5)
        with psycopg.connect(db_url, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")
            hold(app, pool_id)
            received = list(listener.notifies(timeout=2, stop_after=2))
        assert [(n.channel, n.payload) for n in received] == [(CHANNEL, "")]
    finally:
        app.close()
