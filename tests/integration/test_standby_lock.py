"""A worker's standby lock: held by one session, its loss noticed by `check`, at a bounded cost."""

from __future__ import annotations

import threading

import psycopg
import pytest

from berth.adapters.postgres.standby_lock import StandbyLock


def terminate_lock_session(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"berth-lock:{name}",),
        )


def test_a_lock_whose_session_ended_fails_its_next_check(db_url: str) -> None:
    lock = StandbyLock(db_url, "bench-check", check_every=0)
    assert lock.acquire(threading.Event(), poll=0.05)
    try:
        lock.check()
        terminate_lock_session(db_url, "bench-check")
        with pytest.raises(psycopg.OperationalError):
            lock.check()
    finally:
        lock.release()


def test_checks_within_check_every_cost_no_round_trip(db_url: str) -> None:
    """Between pages a runner checks its lock; one round trip per `check_every`, not per page."""
    lock = StandbyLock(db_url, "bench-throttle", check_every=3600)
    assert lock.acquire(threading.Event(), poll=0.05)
    try:
        lock.check()  # the first check asks the session
        terminate_lock_session(db_url, "bench-throttle")
        lock.check()  # within the hour: not asked again, so the loss is not seen yet
        lock.check_every = 0
        with pytest.raises(psycopg.OperationalError):
            lock.check()
    finally:
        lock.release()


def test_a_second_instance_stands_by_until_the_first_releases(db_url: str) -> None:
    first, second = StandbyLock(db_url, "bench-pair"), StandbyLock(db_url, "bench-pair")
    assert first.acquire(threading.Event(), poll=0.05)
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    assert not second.acquire(stop, poll=0.05)  # asked a few times, then stopped standing by
    timer.join()
    first.release()
    assert second.acquire(threading.Event(), poll=0.05)
    second.release()
