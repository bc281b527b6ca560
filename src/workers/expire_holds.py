"""Expires held bookings whose hold ran out, so their status and the books say so.

Capacity does not wait for this worker: the write side and the availability
query stop counting an expired hold at its expiry time. This worker records the
`Expired` event (and releases the nights) a few seconds later. It finds
candidates in the bookings read model; one already confirmed, cancelled or
expired by the time it acts is refused by the aggregate and skipped.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any
from uuid import uuid4

import psycopg

from berth.adapters.postgres.standby_lock import StandbyLock
from berth.adapters.read_models import queries
from berth.domain.application import Reservations
from berth.domain.booking import HoldNotYetExpired, IllegalTransition
from berth.domain.cause import Cause

log = logging.getLogger(__name__)

NAME = "expire-holds"
PRINCIPAL = "worker:expire-holds"


def expire_due_holds(conn: psycopg.Connection[Any], app: Reservations, *, now: datetime) -> int:
    """Expire every hold that ran out by `now` according to the read model; how many."""
    expired = 0
    for booking_id in queries.expired_holds(conn, now=now):
        request_id = str(uuid4())
        cause = Cause(
            principal=PRINCIPAL, channel="system", request_id=request_id, correlation_id=request_id
        )
        try:
            app.expire(booking_id=booking_id, cause=cause)
        except (IllegalTransition, HoldNotYetExpired) as refused:
            # The read model lags the store: the booking moved on, or clocks differ.
            log.debug("expire-holds: skipped %s: %s", booking_id, refused)
            continue
        expired += 1
    return expired


def run(url: str, app: Reservations, stop: threading.Event, *, interval: float = 3.0) -> None:
    lock = StandbyLock(url, NAME)
    log.info("expire-holds: standing by for its lock")
    if not lock.acquire(stop):
        return
    try:
        log.info("expire-holds: running every %.1f s", interval)
        with psycopg.connect(url, autocommit=True, application_name="berth-worker:" + NAME) as conn:
            while not stop.is_set():
                lock.check()
                count = expire_due_holds(conn, app, now=app.clock())
                if count:
                    log.info("expire-holds: expired %d holds", count)
                stop.wait(interval)
    finally:
        lock.release()
        log.info("expire-holds: stopped")
