"""Webhook rules without I/O: which events are heard, the retry schedule, which URLs pass."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from berth.adapters.webhooks import addresses, sender
from berth.projections import bookings, webhook_events
from berth.workers.webhooks import WebhookSettings


def test_every_event_the_bookings_projection_applies_is_a_webhook_type() -> None:
    assert webhook_events.BOOKING_TOPICS == bookings.TOPICS
    assert webhook_events.BOOKING_TOPICS < webhook_events.TOPICS
    assert "availability.changed" not in webhook_events.DEFAULT_EVENT_TYPES
    assert webhook_events.webhook_type("berth.domain.pool:Pool.Added") is None
    assert "booking.checked-in" in webhook_events.EVENT_TYPES


def test_retries_back_off_exponentially_with_jitter_up_to_the_ceiling() -> None:
    settings = WebhookSettings(first_retry=5.0, max_retry=3600.0)
    random.seed(7)
    for attempts in range(1, 60):
        ceiling = min(3600.0, 5.0 * 2 ** (attempts - 1))
        delay = settings.retry_in(attempts)
        assert ceiling * 0.5 <= delay <= ceiling


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "https://user@example.com/",
        "https://example.com/#part",
        "http://localhost:8000/",
        "http://api.localhost/",
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/",
        "http://0.0.0.0/",
        "http://example.com:0/",
        "http://example.com:99999/",
        " https://example.com/",
    ],
)
def test_webhook_urls_must_be_public_http(url: str) -> None:
    with pytest.raises(addresses.InvalidWebhookUrl):
        addresses.checked_url(url, private_ok=False)


def test_private_urls_pass_when_allowed_and_public_ones_always() -> None:
    assert addresses.checked_url("http://127.0.0.1:9/x", private_ok=True)
    assert addresses.checked_url("https://hooks.example.com/x?y=1", private_ok=False)
    assert addresses.allow_private({"BERTH_WEBHOOKS_ALLOW_PRIVATE": "1"})
    assert not addresses.allow_private({})


def test_a_signature_verifies_with_the_reference_library() -> None:
    secret = sender.new_secret()
    now = datetime.now(UTC)
    headers = sender.signed_headers(secrets=[secret], webhook_id="msg_1", body='{"a":1}', now=now)
    assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))


def test_two_secrets_make_two_signatures_either_verifies() -> None:
    new, old, other = sender.new_secret(), sender.new_secret(), sender.new_secret()
    now = datetime.now(UTC)
    headers = sender.signed_headers(secrets=[new, old], webhook_id="msg_2", body="{}", now=now)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify("{}", headers) == {}
    assert Webhook(old).verify("{}", headers) == {}
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify("{}", headers)
    with pytest.raises(ValueError, match="one secret"):
        sender.signed_headers(secrets=[], webhook_id="msg_3", body="{}", now=now)
