"""Sends signed webhooks for what happens to bookings: `berth worker webhooks`.

Two loops in one process (one instance active; others stand by on its lock):

- the planner follows the store like a projection. It reads a page after the
  lowest position of the active subscriptions, makes each wanted event's body once
  (`webhook_payloads`), and for every subscription behind the page writes the
  deliveries it wants (its event types; a channel's subscription only its
  channel's bookings) and moves its position, all in one transaction
  (`berth.adapters.webhooks.deliveries.plan`);
- the dispatcher sends what is due, per subscription in a lane of its own with
  at most `concurrency` requests in flight, so a slow or dead receiver holds
  only its own lane. A booking's deliveries go one at a time, in store order.
  A 2xx is delivered; a failure is retried after an exponential backoff with
  jitter (first_retry doubling up to max_retry, times 0.5 to 1), for up to
  `retry_for` (3 days); a subscription with no success for that long is
  disabled, which the log says at ERROR and GET /webhooks shows.

Each send is signed with the secrets valid at that moment, read just before it:
after `POST /webhooks/{id}/secret` the new one at once, and the one before too
while its grace lasts. Sends are counted by outcome (`berth_webhook_deliveries_total`,
`berth_webhook_delivery_seconds`); what waits is read at scrape time (`berth.metrics`).

At-least-once: a delivery is marked delivered only after the receiver's 2xx, so
a crash or SIGKILL mid-send sends it again on restart, with the same
webhook-id; nothing planned is lost, since plans and positions commit together.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper
from psycopg_pool import ConnectionPool

from berth import config, metrics
from berth.adapters.kafka.kafka_records import event_id
from berth.adapters.postgres import event_wakeups
from berth.adapters.postgres.standby_lock import StandbyLock
from berth.adapters.tracking.projection_store import Notification, event_mapper, read_page
from berth.adapters.webhooks import deliveries, sender, subscriptions
from berth.adapters.webhooks.subscriptions import Subscription
from berth.domain.booking import Booking
from berth.projections import webhook_events
from berth.workers.webhook_payloads import AggregateStates, body

log = logging.getLogger(__name__)

NAME = "webhooks"
PROGRESS_EVERY = 5.0
LINGER = 0.02  # seconds a wake-up waits, so one page takes a burst of commands
PRUNE_EVERY = 3600.0  # seconds between prunings of the delivery log


@dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    timeout: float = 10.0  # seconds for each of connect, send and answer
    concurrency: int = 4  # requests in flight per subscription
    first_retry: float = 5.0
    max_retry: float = 3600.0
    retry_for: float = 3 * 24 * 3600.0
    page_size: int = 1000
    private_ok: bool = False
    idle_timeout: float = 1.0  # longest wait between looks at the store and due retries
    keep_for: float = 30 * 24 * 3600.0  # delivered and failed deliveries stay in the log so long

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        """The BERTH_WEBHOOKS_* settings of `berth.config`."""
        settings = config.load(environ)
        return cls(
            timeout=settings.webhooks_timeout_seconds,
            concurrency=settings.webhooks_concurrency,
            first_retry=settings.webhooks_first_retry_seconds,
            max_retry=settings.webhooks_max_retry_seconds,
            retry_for=settings.webhooks_retry_for_seconds,
            page_size=settings.webhooks_page_size,
            keep_for=settings.webhooks_keep_seconds,
            private_ok=settings.webhooks_allow_private,
        )

    def retry_in(self, attempts: int) -> float:
        """Seconds before the next attempt, after `attempts` failed ones (1 or more)."""
        ceiling = min(self.max_retry, self.first_retry * 2.0 ** min(attempts - 1, 40))
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


class WebhookWorker:
    def __init__(
        self,
        url: str,
        mapper: Mapper[UUID],
        settings: WebhookSettings,
        *,
        standby_poll: float = 0.5,
    ) -> None:
        self.url = url
        self.mapper = mapper
        self.settings = settings
        self.standby_poll = standby_poll

    def run(self, stop: threading.Event) -> None:
        lock = StandbyLock(self.url, NAME)
        log.info("%s: standing by for its lock", NAME)
        if not lock.acquire(stop, poll=self.standby_poll):
            return
        pool = ConnectionPool(
            self.url, min_size=1, max_size=16, kwargs={"autocommit": True}, open=True,
            check=ConnectionPool.check_connection,
        )  # fmt: skip
        dispatcher = Dispatcher(pool, self.settings, stop)
        thread = threading.Thread(target=dispatcher.run, name="webhooks-dispatcher", daemon=True)
        thread.start()
        try:
            log.info("%s: lock acquired, following the store", NAME)
            self._plan(lock, dispatcher, stop)
        finally:
            stop_dispatcher = dispatcher.close()
            thread.join(timeout=self.settings.timeout + 5)
            stop_dispatcher()
            pool.close()
            lock.release()
            log.info("%s: stopped", NAME)

    def _plan(self, lock: StandbyLock, dispatcher: Dispatcher, stop: threading.Event) -> None:
        states = AggregateStates(self.mapper)
        with (
            psycopg.connect(self.url, application_name=f"berth-worker:{NAME}") as conn,
            psycopg.connect(self.url, autocommit=True) as listener,
        ):
            event_wakeups.listen(listener)
            listener.execute(f"LISTEN {subscriptions.WAKEUP_CHANNEL}")
            planned_total, since = 0, time.monotonic()
            pruned_at = 0.0
            while not stop.is_set():
                if time.monotonic() - pruned_at >= PRUNE_EVERY:
                    pruned = deliveries.prune(conn, older_than=self.settings.keep_for)
                    if pruned:
                        log.info("%s: forgot %d deliveries older than the log keeps", NAME, pruned)
                    pruned_at = time.monotonic()
                active = subscriptions.active(conn)
                dispatcher.follow(active)
                page: list[Notification] = []
                if active:
                    low = min(s.position for s in active)
                    page = read_page(conn, after=low, limit=self.settings.page_size)
                if page:
                    planned_total += self._plan_page(conn, states, active, page)
                    dispatcher.wake()
                    if time.monotonic() - since >= PROGRESS_EVERY:
                        log.info(
                            "%s: planned %d deliveries, at position %d", NAME, planned_total,
                            page[-1].id,
                        )  # fmt: skip
                        planned_total, since = 0, time.monotonic()
                    continue
                lock.check()
                event_wakeups.wait_for_events(
                    listener, stop, timeout=self.settings.idle_timeout, linger=LINGER
                )
                dispatcher.wake()

    def _plan_page(
        self,
        conn: psycopg.Connection[Any],
        states: AggregateStates,
        active: list[Subscription],
        page: list[Notification],
    ) -> int:
        end = page[-1].id
        behind = [s for s in active if s.position < end]
        wanted = {s.subscription_id: frozenset(s.event_types) for s in behind}
        planned: dict[UUID, list[deliveries.Planned]] = defaultdict(list)
        for notification in page:
            event_type = webhook_events.webhook_type(notification.topic)
            if event_type is None:
                continue
            takers = [
                s for s in behind
                if s.position < notification.id
                and webhook_events.wanted(event_type, subscribed=wanted[s.subscription_id])
            ]  # fmt: skip
            if not takers:
                continue
            event = states.decode(notification)
            aggregate = states.after(conn, event)
            text = body(
                event_type=event_type, event=event, aggregate=aggregate, position=notification.id
            )
            identity = event_id(notification.originator_id, notification.originator_version)
            # A booking is its channel's; availability is every channel's.
            channel = aggregate.channel if isinstance(aggregate, Booking) else None
            for s in takers:
                if s.channel is not None and channel is not None and s.channel != channel:
                    continue
                planned[s.subscription_id].append(
                    deliveries.Planned(
                        webhook_id=deliveries.webhook_id(s.subscription_id, identity),
                        position=notification.id,
                        ordering_key=str(notification.originator_id),
                        event_type=event_type,
                        payload=text,
                    )
                )
        moved = deliveries.plan(
            conn, moves={s.subscription_id: s.position for s in behind}, position=end,
            planned=planned,
        )  # fmt: skip
        return sum(len(planned.get(key, ())) for key in moved)


class Lane:
    """One subscription's sends: `concurrency` threads of its own, one booking at a time.

    The threads share a queue of due deliveries, refilled by one of them at a
    time when it runs dry (a batch with at most one delivery per booking and
    none in flight); a thread with nothing to send waits to be poked (new
    deliveries planned) or for `idle_timeout` (a retry may have come due).
    """

    BATCH_PER_THREAD = 16

    def __init__(
        self, subscription: Subscription, pool: ConnectionPool, settings: WebhookSettings
    ) -> None:  # fmt: skip
        self.subscription = subscription
        self.pool = pool
        self.settings = settings
        self.queue: deque[deliveries.Due] = deque()
        self.in_flight: set[UUID] = set()
        self.refilling = False
        self.poked = True  # look at once
        self.closed = False
        self.cond = threading.Condition()
        name = f"webhook-{str(subscription.subscription_id)[:8]}"
        self.threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(settings.concurrency)
        ]
        for thread in self.threads:
            thread.start()

    def poke(self) -> None:
        with self.cond:
            self.poked = True
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._deliver(item)
            finally:
                with self.cond:
                    self.in_flight.discard(item.webhook_id)

    def _next(self) -> deliveries.Due | None:
        """The next delivery to send, or None once the lane is closed."""
        while True:
            with self.cond:
                while not self.queue and (self.refilling or not self.poked):
                    if self.closed:
                        return None
                    if not self.cond.wait(self.settings.idle_timeout) and not self.refilling:
                        self.poked = True  # waited long enough: a retry may be due
                if self.closed:
                    return None
                if self.queue:
                    item = self.queue.popleft()
                    self.in_flight.add(item.webhook_id)
                    return item
                self.refilling, self.poked = True, False
                exclude = list(self.in_flight)
            found: list[deliveries.Due] = []
            try:
                with self.pool.connection() as conn:
                    found = deliveries.due(
                        conn, self.subscription.subscription_id, exclude=exclude,
                        limit=self.BATCH_PER_THREAD * self.settings.concurrency,
                    )  # fmt: skip
            except Exception:
                log.exception("%s: looking for due deliveries failed; trying again", NAME)
                time.sleep(1.0)
            finally:
                with self.cond:
                    self.refilling = False
                    self.queue.extend(found)
                    self.poked = self.poked or bool(found)  # a full batch: maybe more
                    self.cond.notify_all()

    def _deliver(self, item: deliveries.Due) -> None:
        try:
            with self.pool.connection() as conn:
                try:
                    secrets = subscriptions.signing_secrets(conn, item.subscription_id)
                except subscriptions.UnknownSubscription:
                    return  # deleted meanwhile: its deliveries went with it
            outcome = sender.send(
                self.subscription.url, secrets=secrets, webhook_id=str(item.webhook_id),
                body=item.payload, timeout=self.settings.timeout,
                private_ok=self.settings.private_ok,
            )  # fmt: skip
            with self.pool.connection() as conn:
                if outcome.delivered:
                    deliveries.record_delivered(conn, item, outcome)
                    _count("delivered", outcome)
                    return
                failed = deliveries.record_failed(
                    conn, item, outcome, retry_in=self.settings.retry_in(item.attempts + 1),
                    retry_for=self.settings.retry_for,
                )  # fmt: skip
            _count("failed" if failed.gave_up else "retrying", outcome)
            disabled = failed.disabled
            log.warning(
                "%s: %s of subscription %s to %s failed (attempt %d): %s", NAME,
                item.webhook_id, item.subscription_id, self.subscription.url, item.attempts + 1,
                outcome.error,
            )  # fmt: skip
            if disabled:
                log.error(
                    "%s: subscription %s (%s) DISABLED: %s; PATCH state=active to resume",
                    NAME, item.subscription_id, self.subscription.url, disabled,
                )  # fmt: skip
        except Exception:
            # The delivery stays pending and is sent again: at least once.
            log.exception("%s: recording delivery %s failed", NAME, item.webhook_id)


def _count(outcome: str, sent: sender.Outcome) -> None:
    """One attempt in the worker's metrics: delivered, retrying (failed, to be tried again) or
    failed (given up)."""
    metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
    metrics.WEBHOOK_DELIVERY_SECONDS.labels(outcome).observe(sent.latency_ms / 1000)


class Dispatcher:
    """Keeps a lane per active subscription, and pokes them when deliveries were planned."""

    def __init__(self, pool: ConnectionPool, settings: WebhookSettings, stop: threading.Event):
        self.pool = pool
        self.settings = settings
        self.stop = stop
        self.wakeup = threading.Event()
        self.guard = threading.Lock()
        self.active: dict[UUID, Subscription] = {}
        self.lanes: dict[UUID, Lane] = {}
        self.closed = False

    def follow(self, active: list[Subscription]) -> None:
        with self.guard:
            self.active = {s.subscription_id: s for s in active}

    def wake(self) -> None:
        self.wakeup.set()

    def run(self) -> None:
        while not self.stop.is_set() and not self.closed:
            self.wakeup.wait(timeout=self.settings.idle_timeout)
            self.wakeup.clear()
            try:
                for lane in self._lanes():
                    lane.poke()
            except Exception:
                log.exception("%s: keeping the lanes failed; trying again", NAME)
                self.stop.wait(1.0)

    def _lanes(self) -> list[Lane]:
        with self.guard:
            active = dict(self.active)
        for gone in set(self.lanes) - set(active):
            self.lanes.pop(gone).close()
        for key, subscription in active.items():
            lane = self.lanes.get(key)
            if lane is None:
                self.lanes[key] = Lane(subscription, self.pool, self.settings)
            elif lane.subscription != subscription:
                lane.subscription = replace(subscription)
        return list(self.lanes.values())

    def close(self) -> Any:
        """Stop filling lanes; answers a call that waits for the sends in flight."""
        self.closed = True
        self.wakeup.set()

        def wait_for_lanes() -> None:
            lanes = list(self.lanes.values())
            for lane in lanes:
                lane.close()
            for lane in lanes:
                lane.join(timeout=self.settings.timeout + 5)

        return wait_for_lanes


def run(url: str, stop: threading.Event) -> None:
    """`berth worker webhooks`: settings from the environment (BERTH_WEBHOOKS_*)."""
    WebhookWorker(url, event_mapper(), WebhookSettings.from_environ()).run(stop)
