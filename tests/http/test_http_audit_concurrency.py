"""Auditors replaying the books concurrently, by time and by position, all get their answers.

On the old code a replay cut short by a time left its server-side cursor open
in a suspended generator; closed later by the garbage collector from inside
another request's fetch on the same pooled connection, it hung that request
forever (and kept the connection idle in a transaction), or closed that
request's own cursor under it (a 500, "cursor does not exist"). Here several threads
alternate the two cuts through the real app; a hang fails the test at the join
timeout instead of hanging the run.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from http_support import Api, Clock, World, hold

THREADS = 6
ROUNDS = 15
JOIN_TIMEOUT = 120.0  # seconds for every thread together: generous, only a hang exceeds it


@pytest.fixture
def history(api: Api, world: World, clock: Clock) -> list[dict[str, Any]]:
    """Bookings each held, confirmed and paid, ten minutes between commands; their last answers."""
    answers = []
    for _ in range(3):
        booking = hold(api, world)
        clock.advance(timedelta(minutes=10))
        path = f"/bookings/{booking['id']}"
        assert api.post(f"{path}/confirm", who="web").status_code == 200
        clock.advance(timedelta(minutes=10))
        paid = api.post(
            f"{path}/payments", {"amount": 2400, "currency": "EUR", "method": "card"}, who="web"
        )
        assert paid.status_code in (200, 201), paid.text
        answers.append(paid.json)
        clock.advance(timedelta(minutes=10))
    return answers


def test_alternating_time_and_position_cuts_from_several_threads_all_complete(
    api: Api, world: World, clock: Clock, history: list[dict[str, Any]]
) -> None:
    base = f"/audit/ledger/trial-balance?facility_id={world.facility_id}"
    start = clock.now - timedelta(minutes=90)
    cuts = [
        f"{base}&as_of={(start + timedelta(minutes=5 + 10 * n)).isoformat().replace('+', '%2B')}"
        for n in range(-1, 8)  # the first is before the facility was registered: a 404
    ] + [f"{base}&position={answer['position']}" for answer in history]
    statuses: list[int] = []
    failures: list[BaseException] = []

    def auditor(offset: int) -> None:
        try:
            for n in range(ROUNDS):
                as_of, by_position = cuts[(offset + n) % 9], cuts[9 + (offset + n) % 3]
                for path in (as_of, by_position):
                    answer = api.get(path, who="auditor")
                    statuses.append(answer.status_code)
                    assert answer.status_code in (200, 404), answer.text
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=auditor, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [thread.name for thread in threads if thread.is_alive()]
    assert not hung, f"{len(hung)} auditors never got an answer"
    assert not failures, failures[0]
    assert len(statuses) == THREADS * ROUNDS * 2 and 200 in statuses
