"""Helpers of the webhook tests: the worker in a thread, subscriptions, bookings, the log."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg

from berth.adapters.tracking.projection_store import event_mapper
from berth.adapters.webhooks import deliveries, subscriptions
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.stay import Stay
from berth.workers.webhooks import WebhookSettings, WebhookWorker

FIRST_NIGHT = date(2030, 6, 10)
FAST = WebhookSettings(
    timeout=5.0, concurrency=4, first_retry=0.05, max_retry=0.2, private_ok=True,
    idle_timeout=0.2,
)  # fmt: skip


@contextlib.contextmanager
def worker_running(url: str, settings: WebhookSettings = FAST) -> Iterator[None]:
    worker = WebhookWorker(url, event_mapper(), settings, standby_poll=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="webhooks", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the webhooks worker did not stop"


def subscribe(
    url: str,
    target: str,
    *,
    scope: str | None = None,
    channel: str | None = None,
    event_types: list[str] | None = None,
) -> tuple[subscriptions.Subscription, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return subscriptions.create(
            conn, scope=scope, channel=channel, url=target, event_types=event_types,
            description="test", principal="test", private_ok=True,
        )  # fmt: skip


def subscription(url: str, subscription_id: UUID) -> subscriptions.Subscription:
    with psycopg.connect(url, autocommit=True) as conn:
        return subscriptions.get(conn, subscription_id, scope=None)


def log(url: str, subscription_id: UUID) -> list[deliveries.LogEntry]:
    with psycopg.connect(url, autocommit=True) as conn:
        return deliveries.log_page(conn, subscription_id, before=None, limit=100_000)


def cause(channel: str = "web", correlation_id: str = "corr") -> Cause:
    return Cause(principal="test", channel=channel, request_id="r", correlation_id=correlation_id)


class Bookings:
    """Bookings on one pool, made through the command application."""

    def __init__(self, app: Reservations) -> None:
        self.app = app
        self.count = 0
        facility = app.register_facility(name="Marina", time_zone="UTC", cause=cause()).id
        self.pool = app.add_pool(
            facility_id=facility, name="Berths", capacity=100_000, nightly_price=2500,
            currency="EUR", cause=cause(),
        ).id  # fmt: skip

    def hold(self, *, channel: str = "web", correlation_id: str = "corr") -> UUID:
        i = self.count
        self.count += 1
        arrival = FIRST_NIGHT + timedelta(days=i % 10)
        held = self.app.hold(
            pool_id=self.pool, stay=Stay(arrival, arrival + timedelta(days=1)), quantity=1,
            guest={"given_name": f"Guest{i}", "family_name": "Test"},
            cause=cause(channel, correlation_id),
        )  # fmt: skip
        return held.id

    def hold_and_confirm(self, *, channel: str = "web") -> UUID:
        booking_id = self.hold(channel=channel)
        self.app.confirm(booking_id=booking_id, cause=cause(channel, f"confirm-{booking_id}"))
        return booking_id


def wait_until(check: Callable[[], Any], *, timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what or check}")
        time.sleep(0.05)
