"""Workers start again with capped, jittered backoff when the database goes away."""

from __future__ import annotations

import threading

import eventsourcing.persistence
import psycopg
import pytest

from berth.workers.reconnect import Backoff, run_reconnecting


def test_a_worker_that_loses_its_database_is_run_again_until_it_returns():
    calls: list[int] = []
    failures = [
        psycopg.OperationalError("server closed the connection"),
        eventsourcing.persistence.OperationalError("couldn't get a connection"),
    ]

    def worker() -> None:
        calls.append(1)
        if failures:
            raise failures.pop(0)

    run_reconnecting("test", worker, threading.Event(), backoff=Backoff(first=0.001, cap=0.002))

    assert len(calls) == 3


def test_any_other_error_still_ends_the_worker():
    def worker() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        run_reconnecting("test", worker, threading.Event(), backoff=Backoff(first=0.001))


def test_a_stopped_worker_is_not_run_again():
    stop = threading.Event()
    calls: list[int] = []

    def worker() -> None:
        calls.append(1)
        stop.set()
        raise psycopg.OperationalError("cut while stopping")

    run_reconnecting("test", worker, stop, backoff=Backoff(first=0.001))

    assert calls == [1]


@pytest.mark.parametrize("failures", [1, 2, 5, 10, 100])
def test_the_backoff_doubles_up_to_its_cap_with_jitter_below_each_step(failures: int):
    backoff = Backoff(first=0.5, cap=30.0)
    step = min(30.0, 0.5 * 2 ** (failures - 1))

    delays = [backoff.delay(failures) for _ in range(50)]

    assert all(step / 2 <= d <= step for d in delays)
    assert len(set(delays)) > 1
