"""Rotating a subscription's secret against a real receiver and worker: the secret before
verifies while its grace lasts and not after, the new one always; sends are counted.

The end of a grace is the database's clock passing `previous_valid_until`: the tests
move that mark into the past rather than wait for it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

import psycopg
import pytest
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from berth import metrics
from berth.adapters.webhooks import deliveries, subscriptions
from berth.domain.application import Reservations
from webhook_receiver import Received, Receiver
from webhook_support import Bookings, subscribe, subscription, worker_running


def verifies(secret: str, received: Received) -> bool:
    try:
        Webhook(secret).verify(received.raw, received.headers)
    except WebhookVerificationError:
        return False
    return True


def rotate(url: str, subscription_id: UUID, *, grace: int) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        _, secret = subscriptions.rotate_secret(
            conn, subscription_id, scope=None, grace_seconds=grace, principal="rotator"
        )
    return secret


def end_grace(url: str, subscription_id: UUID) -> None:
    """The grace is over: its end is a moment ago (as if that much time went by)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE webhook_subscriptions SET previous_valid_until = now() - interval '1 second'"
            " WHERE subscription_id = %s",
            (subscription_id,),
        )


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_old_secret_verifies_during_the_grace_and_not_after_the_new_one_always(
    db_url: str, app: Reservations, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    created, old = subscribe(db_url, receiver.url, event_types=["booking.held"])
    bookings = Bookings(app)
    caplog.set_level(logging.DEBUG)
    with worker_running(db_url):
        bookings.hold()
        [before] = receiver.wait_for(1)
        new = rotate(db_url, created.subscription_id, grace=86400)
        bookings.hold()
        during = receiver.wait_for(2)[1]
        end_grace(db_url, created.subscription_id)
        bookings.hold()
        after = receiver.wait_for(3)[2]
    assert verifies(old, before) and not verifies(new, before)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verifies(old, during) and verifies(new, during)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert verifies(new, after) and not verifies(old, after)
    assert new not in caplog.text and old not in caplog.text
    shown = subscription(db_url, created.subscription_id)
    assert shown.secret_rotated_by == "rotator" and shown.secret_rotated_at is not None
    assert new not in repr(shown) and old not in repr(shown)


def test_a_grace_of_zero_revokes_the_old_secret_at_once(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, old = subscribe(db_url, receiver.url, event_types=["booking.held"])
    new = rotate(db_url, created.subscription_id, grace=0)
    bookings = Bookings(app)
    with worker_running(db_url):
        bookings.hold()
        [received] = receiver.wait_for(1)
    assert verifies(new, received) and not verifies(old, received)
    assert subscription(db_url, created.subscription_id).previous_valid_until is None


def test_a_rotation_within_a_grace_keeps_only_the_secret_it_replaces(db_url: str) -> None:
    created, first = subscribe(db_url, "http://127.0.0.1:9/hooks")
    second = rotate(db_url, created.subscription_id, grace=3600)
    third = rotate(db_url, created.subscription_id, grace=3600)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert subscriptions.signing_secrets(conn, created.subscription_id) == [third, second]
    assert len({first, second, third}) == 3
    end_grace(db_url, created.subscription_id)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert subscriptions.signing_secrets(conn, created.subscription_id) == [third]


def test_a_rotation_out_of_bounds_or_out_of_scope_changes_nothing(db_url: str) -> None:
    created, secret = subscribe(db_url, "http://127.0.0.1:9/hooks", scope="web")
    with psycopg.connect(db_url, autocommit=True) as conn:
        for grace in (-1, subscriptions.MAX_GRACE_SECONDS + 1, 2**63, True):
            with pytest.raises(subscriptions.InvalidSubscription):
                subscriptions.rotate_secret(
                    conn, created.subscription_id, scope=None, grace_seconds=grace,
                    principal="x",
                )  # fmt: skip
        with pytest.raises(subscriptions.UnknownSubscription):
            subscriptions.rotate_secret(
                conn, created.subscription_id, scope="reseller", grace_seconds=60, principal="x"
            )
        assert subscriptions.signing_secrets(conn, created.subscription_id) == [secret]
    assert subscription(db_url, created.subscription_id) == created


def test_sends_are_counted_by_outcome_and_timed_and_the_waiting_read_when_scraped(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, secret = subscribe(db_url, receiver.url, event_types=["booking.held"])
    receiver.secret = secret
    receiver.fail_next = 2
    before = {
        outcome: sample("berth_webhook_deliveries_total", outcome=outcome)
        for outcome in ("delivered", "retrying")
    }
    timed = sample("berth_webhook_delivery_seconds_count", outcome="delivered")
    bookings = Bookings(app)
    with worker_running(db_url):
        bookings.hold()
        [received] = receiver.wait_for(1)
    assert received.verified
    after = {
        outcome: sample("berth_webhook_deliveries_total", outcome=outcome)
        for outcome in ("delivered", "retrying")
    }
    assert {k: after[k] - before[k] for k in after} == {"delivered": 1, "retrying": 2}
    assert sample("berth_webhook_delivery_seconds_count", outcome="delivered") == timed + 1

    # Nothing sends now: a queued ping waits, and a scrape reads it from the store.
    with psycopg.connect(db_url, autocommit=True) as conn:
        deliveries.ping(
            conn, created.subscription_id, scope=None, correlation_id="c", now=datetime.now(UTC)
        )
    scraped = metrics.registry(metrics.StoreState(lambda: psycopg.connect(db_url)))
    assert scraped.get_sample_value("berth_webhook_deliveries_waiting", {"state": "due"}) == 1
    assert scraped.get_sample_value("berth_webhook_deliveries_waiting", {"state": "scheduled"}) == 0
    assert (scraped.get_sample_value("berth_webhook_oldest_due_seconds") or 0) >= 0
    assert scraped.get_sample_value("berth_webhook_subscriptions", {"state": "active"}) == 1
    assert scraped.get_sample_value("berth_webhook_subscriptions", {"state": "paused"}) == 0
