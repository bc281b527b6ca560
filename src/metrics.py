"""Prometheus metrics (prometheus-client): what Berth's processes count, and the store's state.

The API serves them at ``/metrics``; under gunicorn every worker process writes
its samples to ``PROMETHEUS_MULTIPROC_DIR`` (`berth.http.gunicorn_config` makes
one when unset) and a scrape adds them up. A worker (`berth worker NAME`) serves
them on ``BERTH_METRICS_PORT`` when set (`berth up` gives each its own).

Labels are bounded: routes are templates (``/bookings/{booking_id:uuid}``), never
raw paths; outcomes are problem codes; projections and relays are by name.

The state of the store — each projection's position, lag and failure, each
relay's position and lag, the webhook deliveries waiting and subscriptions by
state — is read from PostgreSQL when scraped (`StoreState`), so any process
shows the same and none has to be running for it to be seen.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from berth.adapters.read_models import queries

log = logging.getLogger(__name__)

MULTIPROC_DIR_VAR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUEST_SECONDS = Histogram(
    "berth_http_request_duration_seconds",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
)
COMMANDS = Counter(
    "berth_commands_total",
    "Commands (POST/PUT/PATCH/DELETE) by route and outcome: ok, or the problem code",
    ["command", "outcome"],
)
IDEMPOTENCY_REPLAYS = Counter(
    "berth_idempotency_replays_total",
    "Commands answered from a stored Idempotency-Key answer, by route",
    ["command"],
)
GATE_DECISION_SECONDS = Histogram(
    "berth_gate_decision_seconds",
    "Plate reads decided at a gate, by decision (open, deny)",
    ["decision"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DB_POOL_CONNECTIONS = Gauge(
    "berth_db_pool_connections",
    "Connections of the API's read pools: open, idle, and requests waiting for one",
    ["state"],
    multiprocess_mode="livesum",
)
PROJECTION_FAILURES = Counter(
    "berth_projection_apply_failures_total",
    "Events a projection worker could not apply (each attempt), by projection",
    ["projection"],
)
RELAY_PUBLISHED = Counter(
    "berth_relay_published_events_total", "Events the Kafka relay published", ["relay"]
)

# Every metric here has labels: an unlabelled one would open its multiprocess file
# at import, before gunicorn's on_starting empties the directory (and then fail).
WEBHOOK_DELIVERIES = Counter(
    "berth_webhook_deliveries_total",
    "Webhook sends by outcome: delivered (2xx), retrying (failed, tried again later),"
    " failed (given up after BERTH_WEBHOOKS_RETRY_FOR_SECONDS)",
    ["outcome"],
)
WEBHOOK_DELIVERY_SECONDS = Histogram(
    "berth_webhook_delivery_seconds",
    "Time from a webhook's connect to the receiver's answer (or the failure), by outcome",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class StoreState(Collector):
    """Projection and relay positions, lag and failures, read from the database per scrape."""

    def __init__(self, connect: Connect) -> None:
        self.connect = connect

    def collect(self) -> Iterable[Metric]:
        try:
            with self.connect() as conn:
                projections = queries.projection_status(conn)
                relays = conn.execute("SELECT relay, position FROM relay_positions").fetchall()
                webhooks = _webhook_state(conn)
        except psycopg.Error as error:
            log.warning("metrics: cannot read the store's state: %s", error)
            up = GaugeMetricFamily("berth_store_up", "1 when the store's state could be read")
            up.add_metric([], 0)
            return [up]
        return [*_store_metrics(projections, relays), *_webhook_metrics(webhooks)]


def _store_metrics(
    projections: list[dict[str, Any]], relays: list[tuple[str, int]]
) -> Iterator[Metric]:
    up = GaugeMetricFamily("berth_store_up", "1 when the store's state could be read")
    up.add_metric([], 1)
    yield up
    head = projections[0]["head"] if projections else 0
    store = GaugeMetricFamily("berth_event_store_head", "The last notification id in the store")
    store.add_metric([], head)
    yield store
    families = {
        "position": ("berth_projection_position", "A projection's last applied position"),
        "lag_events": ("berth_projection_lag_events", "Events a projection is behind the head"),
        "lag_seconds": ("berth_projection_lag_seconds", "Age of its oldest unapplied event"),
    }
    for key, (name, doc) in families.items():
        family = GaugeMetricFamily(name, doc, labels=["projection"])
        for status in projections:
            family.add_metric([status["projection"]], float(status[key]))
        yield family
    failed = GaugeMetricFamily(
        "berth_projection_failed",
        "1 while a projection is stuck on an event",
        labels=["projection"],
    )
    for status in projections:
        failed.add_metric([status["projection"]], 1.0 if status["failure"] else 0.0)
    yield failed
    position = GaugeMetricFamily("berth_relay_position", "A relay's position", labels=["relay"])
    lag = GaugeMetricFamily("berth_relay_lag_events", "Events a relay is behind", labels=["relay"])
    for relay, at in relays:
        position.add_metric([relay], at)
        lag.add_metric([relay], max(head - at, 0))
    yield position
    yield lag


_WEBHOOK_STATE = (
    "SELECT 'waiting', CASE WHEN next_attempt_at <= now() THEN 'due' ELSE 'scheduled' END,"
    " count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)), 0)"
    " FROM webhook_deliveries WHERE status = 'pending' GROUP BY 2"
    " UNION ALL SELECT 'subscriptions', state, count(*), 0 FROM webhook_subscriptions"
    " GROUP BY state"
)


def _webhook_state(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], tuple[int, float]]:
    """(kind, state): (count, seconds) of deliveries waiting and subscriptions by state."""
    rows = conn.execute(_WEBHOOK_STATE).fetchall()
    return {(kind, state): (int(n), float(age)) for kind, state, n, age in rows}


def _webhook_metrics(state: dict[tuple[str, str], tuple[int, float]]) -> Iterator[Metric]:
    waiting = GaugeMetricFamily(
        "berth_webhook_deliveries_waiting",
        "Webhook deliveries not yet made: due (may be sent now) or scheduled (a retry's wait)",
        labels=["state"],
    )
    for kind in ("due", "scheduled"):
        waiting.add_metric([kind], state.get(("waiting", kind), (0, 0.0))[0])
    yield waiting
    overdue = GaugeMetricFamily(
        "berth_webhook_oldest_due_seconds",
        "How long the longest-due webhook delivery has been waiting to be sent (0: none)",
    )
    overdue.add_metric([], max(state.get(("waiting", "due"), (0, 0.0))[1], 0.0))
    yield overdue
    subscriptions = GaugeMetricFamily(
        "berth_webhook_subscriptions",
        "Webhook subscriptions by state: active, paused, disabled (after failing too long)",
        labels=["state"],
    )
    for kind in ("active", "paused", "disabled"):
        subscriptions.add_metric([kind], state.get(("subscriptions", kind), (0, 0.0))[0])
    yield subscriptions


class _Forward(Collector):
    """This process's own metrics (the default registry), for a registry of a scrape."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry(store: StoreState | None = None) -> CollectorRegistry:
    """What a scrape shows: this process's metrics, or every gunicorn worker's added up
    (multiprocess mode), and the store's state when given."""
    scraped = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_DIR_VAR):
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
    else:
        scraped.register(_Forward())
    if store is not None:
        scraped.register(store)
    return scraped


def exposition(scraped: CollectorRegistry) -> bytes:
    return generate_latest(scraped)


def serve(port: int, store: StoreState) -> None:
    """A worker's own /metrics server on ``port`` (a daemon thread)."""
    start_http_server(port, registry=registry(store))
    log.info("metrics on port %d", port)
