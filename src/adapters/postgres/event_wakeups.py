"""Waking up when events are stored: LISTEN on the channel the event store NOTIFYs.

eventsourcing's PostgreSQL recorder sends NOTIFY berth_events in every insert
transaction, delivered at commit; followers of the notification log (projection
runners, the Kafka relay) wait here between pages instead of polling.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

EVENTS_CHANNEL = "berth_events"
# Projection runners NOTIFY here with "<projection>:<position>" after each page they apply.
POSITIONS_CHANNEL = "berth_projections"


def listen(listener: psycopg.Connection[Any]) -> None:
    """Start listening on an autocommit connection kept for that."""
    listener.execute(f"LISTEN {EVENTS_CHANNEL}")


def wait_for_events(
    listener: psycopg.Connection[Any],
    stop: threading.Event,
    *,
    timeout: float,
    linger: float = 0.0,
) -> None:
    """Return when an event is stored, `timeout` passes or `stop` is set.

    After a wake-up it lingers `linger` seconds so that the next page takes what
    a burst of commands inserts, then drains the notifications that came meanwhile:
    one page reads them all.
    """
    deadline = time.monotonic() + timeout
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if list(listener.notifies(timeout=min(remaining, 0.25), stop_after=1)):
            if linger:
                time.sleep(linger)
            list(listener.notifies(timeout=0))
            return
