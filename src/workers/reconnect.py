"""Workers outlive their database: a lost connection is retried with backoff, never an exit.

`run_reconnecting` runs a worker until it returns (it was stopped). When the
database goes away under it (PostgreSQL restarting, stopped, unreachable, a
connection cut), the worker's connections fail with OperationalError; the worker
is started again after a delay that doubles from `first` up to `cap`, jittered so
that many workers do not reconnect in step, and logged each time. Starting again
means standing by for its lock and resuming from its tracked position, so a
projection, the relay or a consumer picks up exactly where it committed.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import eventsourcing.persistence
import psycopg

log = logging.getLogger(__name__)

# What a lost or refused database connection raises: psycopg's own (psycopg_pool's
# PoolTimeout is one), and eventsourcing's wrapping of it inside the event store.
CONNECTION_LOST = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
)


@dataclass(frozen=True, kw_only=True)
class Backoff:
    first: float = 0.5
    cap: float = 30.0
    # A run that lasted this long was healthy: the next failure starts from `first`.
    healthy_after: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait before attempt `failures` + 1: between half and all of the doubled step."""
        step = min(self.cap, self.first * 2.0 ** min(failures - 1, 32))
        return random.uniform(step / 2, step)  # noqa: S311 - jitter, not a secret


def run_reconnecting(
    name: str, run: Callable[[], None], stop: threading.Event, *, backoff: Backoff = Backoff()
) -> None:
    """Call `run` until it returns or `stop` is set, again after each lost connection."""
    failures = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            run()
        except CONNECTION_LOST as error:
            if stop.is_set():
                return
            if time.monotonic() - started >= backoff.healthy_after:
                failures = 0
            failures += 1
            delay = backoff.delay(failures)
            log.warning(
                "%s: lost the database (%s); reconnecting in %.1f s (attempt %d)",
                name, str(error).strip() or type(error).__name__, delay, failures,
            )  # fmt: skip
            stop.wait(delay)
        else:
            return
