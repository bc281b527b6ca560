"""berth.workers: the long-running processes, each started by `berth worker NAME`.

`run_worker` runs one until `stop` is set, or, when none is given, until the
process gets SIGTERM or SIGINT. A worker that loses its database is started again
with backoff (`reconnect`), so an outage never ends a worker process.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import availability_rows, booking_rows, ledger_rows, occupancy_rows
from berth.adapters.tracking.projection_store import event_mapper
from berth.projections import availability, bookings, ledger, occupancy
from berth.workers import expire_holds, gate_reads, kafka_relay
from berth.workers.projection_runner import Projection, ProjectionRunner
from berth.workers.reconnect import run_reconnecting

log = logging.getLogger(__name__)

PROJECTIONS: dict[str, Projection[Any]] = {
    availability.NAME: Projection(
        availability.NAME, availability.TOPICS, availability.fold, availability_rows.write
    ),
    bookings.NAME: Projection(bookings.NAME, bookings.TOPICS, bookings.fold, booking_rows.write),
    ledger.NAME: Projection(ledger.NAME, ledger.TOPICS, ledger.fold, ledger_rows.write),
    occupancy.NAME: Projection(
        occupancy.NAME, occupancy.TOPICS, occupancy.fold, occupancy_rows.write
    ),
}


PAGE_SIZE_VAR = "BERTH_PROJECTION_PAGE_SIZE"
# Seconds before a projection retries an event it could not apply, doubled per attempt
# up to a minute (or this, if longer); an operator's `berth projection retry` is at once.
RETRY_VAR = "BERTH_PROJECTION_RETRY_SECONDS"


def _projection_worker(name: str) -> Callable[[str, threading.Event], None]:
    def run(url: str, stop: threading.Event) -> None:
        page_size = int(os.environ.get(PAGE_SIZE_VAR) or 5000)
        runner = ProjectionRunner(url, PROJECTIONS[name], event_mapper(), page_size=page_size)
        runner.retry_first = float(os.environ.get(RETRY_VAR) or runner.retry_first)
        runner.retry_max = max(runner.retry_max, runner.retry_first)
        runner.run(stop)

    return run


def _expire_holds_worker(url: str, stop: threading.Event) -> None:
    app = open_reservations(url)
    try:
        expire_holds.run(url, app, stop)
    finally:
        app.close()


WORKERS: dict[str, Callable[[str, threading.Event], None]] = {
    availability.NAME: _projection_worker(availability.NAME),
    bookings.NAME: _projection_worker(bookings.NAME),
    ledger.NAME: _projection_worker(ledger.NAME),
    occupancy.NAME: _projection_worker(occupancy.NAME),
    expire_holds.NAME: _expire_holds_worker,
    kafka_relay.NAME: kafka_relay.run,
    gate_reads.NAME: gate_reads.run,
}


class UnknownWorker(ValueError):
    pass


def run_worker(name: str, url: str, stop: threading.Event | None = None) -> None:
    """Run the worker `name` against the database at `url` until stopped."""
    worker = WORKERS.get(name)
    if worker is None:
        raise UnknownWorker(f"no worker {name!r}; there are {', '.join(sorted(WORKERS))}")
    if stop is None:
        stop = threading.Event()
        _stop_on_signals(stop)
    run_reconnecting(name, lambda: worker(url, stop), stop)


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, _: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
