"""The webhooks worker against a real receiver: signed, ordered, retried, isolated, disabled."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import psycopg
import pytest

from berth.adapters.kafka.kafka_records import event_id
from berth.adapters.webhooks import deliveries, subscriptions
from berth.adapters.webhooks.deliveries import webhook_id
from berth.domain.application import Reservations
from berth.domain.command_context import CommandContext
from berth.http.schemas.answers import Booking as BookingAnswer
from berth.projections.bookings import row_of
from webhook_receiver import Receiver
from webhook_support import (
    FAST,
    Bookings,
    cause,
    log,
    subscribe,
    subscription,
    wait_until,
    worker_running,
)


def booking_events(url: str) -> list[tuple[int, UUID, int, str]]:
    """(position, booking id, version, topic) of every Booking event, in store order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic FROM berth_events"
            " WHERE topic LIKE 'berth.domain.booking:Booking.%%' ORDER BY notification_id"
        ).fetchall()
    return [(int(n), o, int(v), t) for n, o, v, t in rows]


def test_every_booking_event_arrives_signed_once_in_order_as_the_api_shows_the_booking(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, secret = subscribe(db_url, receiver.url)
    receiver.secret = secret
    bookings = Bookings(app)
    with worker_running(db_url):
        ids = [bookings.hold_and_confirm() for _ in range(6)]
        app.bookings.cancel(
            booking_id=ids[0],
            reason="changed plans",
            context=CommandContext(cause=cause("web", "cancel")),
        )
        expected = booking_events(db_url)
        received = receiver.wait_for(len(expected))
    assert all(r.verified for r in received), "a signature the reference library refuses"
    assert len(received) == len(expected)
    # Bookings go side by side; each booking's events come in store order.
    in_order = sorted(received, key=lambda r: r.body["position"])
    assert [r.body["position"] for r in in_order] == [n for n, *_ in expected]
    assert [r.webhook_id for r in in_order] == [
        str(webhook_id(created.subscription_id, event_id(o, v))) for _, o, v, _ in expected
    ]
    by_booking: dict[str, list[str]] = defaultdict(list)
    positions: dict[str, list[int]] = defaultdict(list)
    for r in received:
        by_booking[r.body["data"]["id"]].append(r.body["type"])
        positions[r.body["data"]["id"]].append(r.body["position"])
    assert all(p == sorted(p) for p in positions.values())
    assert by_booking[str(ids[0])] == ["booking.held", "booking.confirmed", "booking.cancelled"]
    assert by_booking[str(ids[1])] == ["booking.held", "booking.confirmed"]
    # The last delivery of the cancelled booking (other bookings' deliveries run beside it).
    last = [r for r in received if r.body["data"]["id"] == str(ids[0])][-1].body
    booking = app.bookings.booking(ids[0])
    assert last["data"] == BookingAnswer().dump(row_of(booking, position=last["position"]))
    assert last["correlation_id"] == "cancel"
    assert last["event_id"] == str(event_id(booking.id, booking.version))
    entries = log(db_url, created.subscription_id)
    assert {e.status for e in entries} == {"delivered"}
    assert all(e.response_code == 200 and e.attempts == 1 for e in entries)


def test_a_failing_receiver_gets_the_same_ids_again_until_it_answers_2xx(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, secret = subscribe(db_url, receiver.url, event_types=["booking.held"])
    receiver.secret = secret
    receiver.fail_next = 3
    bookings = Bookings(app)
    with worker_running(db_url):
        booking_id = bookings.hold()
        [received] = receiver.wait_for(1)
    assert received.verified and received.body["data"]["id"] == str(booking_id)
    [entry] = log(db_url, created.subscription_id)
    assert str(entry.webhook_id) == received.webhook_id
    assert entry.status == "delivered" and entry.attempts == 4 and entry.response_code == 200
    assert subscription(db_url, created.subscription_id).failing_since is None


def test_a_failed_attempt_is_logged_with_code_and_a_truncated_body(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, _ = subscribe(db_url, receiver.url, event_types=["booking.held"])
    receiver.fail_all = True
    receiver.status_when_failing = 503
    with worker_running(db_url):
        Bookings(app).hold()
        entry = wait_until(
            lambda: [e for e in log(db_url, created.subscription_id) if e.attempts >= 2],
            what="two failed attempts",
        )[0]
    assert entry.status == "pending" and entry.as_dict()["status"] == "retrying"
    assert entry.response_code == 503 and entry.error == "answered 503"
    assert entry.response_body is not None and len(entry.response_body) == 1024
    assert receiver.ids() == []


def test_a_redirect_is_not_followed(db_url: str, app: Reservations, receiver: Receiver) -> None:
    elsewhere = Receiver()
    try:
        receiver.redirect_to = elsewhere.url
        created, _ = subscribe(db_url, receiver.url, event_types=["booking.held"])
        with worker_running(db_url):
            Bookings(app).hold()
            entry = wait_until(
                lambda: [e for e in log(db_url, created.subscription_id) if e.attempts >= 1],
                what="an attempt",
            )[0]
        assert entry.response_code == 302 and entry.status == "pending"
        assert elsewhere.ids() == []
    finally:
        elsewhere.stop()


def test_a_held_up_receiver_never_delays_another_subscription(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    slow = Receiver()
    slow.hold.clear()  # takes requests and answers none until released
    try:
        subscribe(db_url, slow.url)
        fast, _ = subscribe(db_url, receiver.url)
        bookings = Bookings(app)
        with worker_running(db_url):
            for _ in range(10):
                bookings.hold_and_confirm()
            expected = len(booking_events(db_url))
            receiver.wait_for(expected)
            assert slow.ids() == []
            assert slow.holding <= FAST.concurrency
            slow.hold.set()
            slow.wait_for(expected)
        assert {e.status for e in log(db_url, fast.subscription_id)} == {"delivered"}
    finally:
        slow.hold.set()
        slow.stop()


def test_a_booking_keys_subscription_hears_of_its_channel_only(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    reseller, _ = subscribe(db_url, receiver.url, scope="reseller")
    everyone = Receiver()
    try:
        subscribe(db_url, everyone.url)
        bookings = Bookings(app)
        with worker_running(db_url):
            theirs = [bookings.hold(channel="reseller") for _ in range(3)]
            for _ in range(3):
                bookings.hold(channel="web")
            everyone.wait_for(6)
            receiver.wait_for(3)
            mark = bookings.hold(channel="reseller")  # once it is in, the web ones were passed
            receiver.wait_for(4)
        assert reseller.channel == "reseller"
        # Bookings are sent side by side (only one booking's events are ordered): compare sets.
        assert sorted(b["data"]["id"] for b in receiver.bodies()) == sorted(
            str(i) for i in [*theirs, mark]
        )
        assert {b["data"]["channel"] for b in receiver.bodies()} == {"reseller"}
    finally:
        everyone.stop()


def test_a_receiver_gone_for_too_long_disables_its_subscription_and_says_so(
    db_url: str, app: Reservations, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    created, _ = subscribe(db_url, receiver.url)
    receiver.stop()
    settings = replace(FAST, retry_for=0.5)
    bookings = Bookings(app)
    with (
        caplog.at_level(logging.ERROR, logger="berth.workers.webhooks"),
        worker_running(db_url, settings),
    ):
        booking_id = bookings.hold_and_confirm()
        wait_until(
            lambda: subscription(db_url, created.subscription_id).state == "disabled",
            what="the subscription disabled",
        )
    gone = subscription(db_url, created.subscription_id)
    assert gone.disabled_at is not None and gone.disabled_reason
    assert any("DISABLED" in r.getMessage() for r in caplog.records)
    # Back, and resumed by the operator: what was planned, and what came meanwhile, arrives.
    receiver.start()
    app.bookings.cancel(booking_id=booking_id, context=CommandContext(cause=cause("web", "cancel")))
    with psycopg.connect(db_url, autocommit=True) as conn:
        subscriptions.update(
            conn, created.subscription_id, scope=None, changes={"state": "active"},
            private_ok=True,
        )  # fmt: skip
    with worker_running(db_url):
        receiver.wait_for(2)
    # The first was given up when the subscription was disabled; the rest waited for it.
    assert [b["type"] for b in receiver.bodies()] == ["booking.confirmed", "booking.cancelled"]
    statuses = {e.event_type: e.status for e in log(db_url, created.subscription_id)}
    assert statuses == {
        "booking.held": "failed", "booking.confirmed": "delivered",
        "booking.cancelled": "delivered",
    }  # fmt: skip


def test_replay_sends_the_events_again_with_their_ids(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, _ = subscribe(db_url, receiver.url)
    bookings = Bookings(app)
    with worker_running(db_url):
        for _ in range(3):
            bookings.hold_and_confirm()
        expected = booking_events(db_url)
        first = receiver.wait_for(len(expected))
        from_position = expected[2][0]
        with psycopg.connect(db_url, autocommit=True) as conn:
            subscriptions.replay(
                conn, created.subscription_id, scope=None, from_position=from_position
            )
        again = receiver.wait_for(len(expected) * 2 - 2)
    replayed = {r.webhook_id: r.raw for r in again[len(first) :]}
    originals = {r.webhook_id: r.raw for r in first if r.body["position"] >= from_position}
    assert replayed == originals  # the same ids and the same bytes
    entries = {str(e.webhook_id): e for e in log(db_url, created.subscription_id)}
    assert {i for i, e in entries.items() if e.replays == 1} == set(originals)
    assert {i for i, e in entries.items() if e.replays == 0} == set(entries) - set(originals)


def test_private_addresses_are_refused_at_send_unless_allowed(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, _ = subscribe(db_url, receiver.url, event_types=["booking.held"])
    with worker_running(db_url, replace(FAST, private_ok=False)):
        Bookings(app).hold()
        entry = wait_until(
            lambda: [e for e in log(db_url, created.subscription_id) if e.attempts >= 1],
            what="an attempt",
        )[0]
    assert entry.response_code is None and "AddressRefused" in (entry.error or "")
    assert receiver.ids() == []


def test_a_ping_is_signed_and_logged(db_url: str, app: Reservations, receiver: Receiver) -> None:
    created, secret = subscribe(db_url, receiver.url)
    receiver.secret = secret
    with psycopg.connect(db_url, autocommit=True) as conn:
        identity = deliveries.ping(
            conn, created.subscription_id, scope=None, correlation_id="ping-1",
            now=datetime.now(UTC),
        )  # fmt: skip
    with worker_running(db_url):
        [received] = receiver.wait_for(1)
    assert received.verified and received.webhook_id == str(identity)
    assert received.body["type"] == "webhook.ping" and received.body["correlation_id"] == "ping-1"
    [entry] = log(db_url, created.subscription_id)
    assert entry.status == "delivered" and entry.event_type == "webhook.ping"
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert deliveries.prune(conn, older_than=3600) == 0  # kept while young
        assert deliveries.prune(conn, older_than=0) == 1
    assert log(db_url, created.subscription_id) == []


def test_availability_changes_reach_whoever_asks_for_them_as_the_api_shows_a_night(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    subscribe(db_url, receiver.url, scope="reseller", event_types=["availability.changed"])
    default = Receiver()
    try:
        subscribe(db_url, default.url)  # the default types: bookings only
        bookings = Bookings(app)
        with worker_running(db_url):
            booking_id = bookings.hold(channel="web")  # another channel's booking
            app.bookings.confirm(
                booking_id=booking_id, context=CommandContext(cause=cause("web", "confirm"))
            )
            default.wait_for(2)
            held, firmed = receiver.wait_for(2)
        assert {b["type"] for b in default.bodies()} == {"booking.held", "booking.confirmed"}
        booking = app.bookings.booking(booking_id)
        night = booking.arrival.isoformat()
        assert held.body["type"] == firmed.body["type"] == "availability.changed"
        assert held.body["data"]["pool_id"] == str(bookings.pool)
        assert held.body["data"]["nights"] == [
            {"night": night, "capacity": 100_000, "held": 1, "confirmed": 0, "remaining": 99_999}
        ]
        assert firmed.body["data"]["nights"] == [
            {"night": night, "capacity": 100_000, "held": 0, "confirmed": 1, "remaining": 99_999}
        ]
    finally:
        default.stop()


def test_a_bookings_later_event_waits_for_its_earlier_one_to_be_delivered(
    db_url: str, app: Reservations, receiver: Receiver
) -> None:
    created, _ = subscribe(db_url, receiver.url)
    receiver.fail_next = 3  # the first event of the booking fails three times
    bookings = Bookings(app)
    with worker_running(db_url):
        booking_id = bookings.hold_and_confirm()
        app.bookings.cancel(
            booking_id=booking_id, context=CommandContext(cause=cause("web", "cancel"))
        )
        received = receiver.wait_for(3)
    assert [r.body["type"] for r in received] == [
        "booking.held", "booking.confirmed", "booking.cancelled",
    ]  # fmt: skip
    attempts = {e.event_type: e.attempts for e in log(db_url, created.subscription_id)}
    assert attempts == {"booking.held": 4, "booking.confirmed": 1, "booking.cancelled": 1}
