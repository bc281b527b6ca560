"""Domain events as Kafka records: topics per aggregate kind, keys, stable event ids, plain JSON."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from berth.adapters.kafka.kafka_records import (
    Record,
    aggregate_kind,
    event_id,
    event_type,
    kebab,
    to_record,
)
from berth.adapters.tracking.projection_store import Notification
from berth.domain.application import Reservations

from .support import HoldFn


def held(app: Reservations) -> Record:
    return next(r for r in records(app) if dict(r.headers)["event-type"] == b"Booking.Held")


def records(app: Reservations, *, prefix: str = "berth.") -> list[Record]:
    return [
        to_record(
            Notification(n.id, n.originator_id, n.originator_version, n.topic, n.state),
            app.mapper,
            prefix=prefix,
        )
        for n in app.recorder.select_notifications(start=1, limit=1000)
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Booking", "booking"),
        ("NightInventory", "night-inventory"),
        ("BookingReference", "booking-reference"),
        ("ANPRRead", "anpr-read"),
        ("Gate2Lane", "gate2-lane"),
    ],
)
def test_class_names_become_kebab_case_topic_names(name: str, expected: str) -> None:
    assert kebab(name) == expected


def test_the_aggregate_kind_is_the_class_an_event_is_nested_in() -> None:
    assert aggregate_kind("berth.domain.booking:Booking.Held") == "booking"
    assert aggregate_kind("berth.domain.inventory:NightInventory.Opened") == "night-inventory"
    assert aggregate_kind("berth.domain.gates:PlateRead") == "gates"
    assert event_type("berth.domain.booking:Booking.Held") == "Booking.Held"


def test_an_event_id_depends_only_on_the_aggregate_and_the_version() -> None:
    aggregate = UUID("2da95d11-f8bc-45fe-990a-e53545e2dfab")
    assert event_id(aggregate, 3) == event_id(UUID(str(aggregate)), 3)
    assert event_id(aggregate, 3) != event_id(aggregate, 4)
    # Pinned: consumers keep these ids, so they may never change from one release to the next.
    assert event_id(aggregate, 1) == UUID("86b59aed-97f9-5143-81ce-0d71bbb616e1")


def test_a_hold_publishes_to_one_topic_per_aggregate_kind_keyed_by_aggregate_id(
    app: Reservations, hold: HoldFn
) -> None:
    booking = hold(nights=2)
    published = records(app)
    assert {r.topic for r in published} == {
        "berth.facility", "berth.pool", "berth.booking", "berth.booking-reference",
        "berth.night-inventory",
    }  # fmt: skip
    by_kind = {r.topic: r for r in published}
    assert by_kind["berth.booking"].key == str(booking.id).encode()
    assert by_kind["berth.booking"].event_id == event_id(booking.id, 1)
    assert [r.position for r in published] == list(range(1, len(published) + 1))


def test_the_value_is_plain_json_with_the_envelope_and_the_data(
    app: Reservations, hold: HoldFn
) -> None:
    booking = hold(nights=2, plates=["AB-123-C"])
    value = json.loads(held(app).value)
    assert value["event_id"] == str(event_id(booking.id, 1))
    assert value["type"] == "Booking.Held"
    assert value["aggregate_type"] == "booking"
    assert value["aggregate_id"] == str(booking.id)
    assert value["version"] == 1
    assert value["position"] == held(app).position
    assert value["timestamp"] == "2030-06-01T09:00:00+00:00"
    assert value["cause"] == {
        "principal": "api-key:web-1", "channel": "brand-site", "request_id": "req-1",
        "correlation_id": "corr-1",
    }  # fmt: skip
    data = value["data"]
    assert data["plates"] == ["AB-123-C"]
    assert data["arrival"] == "2030-06-01"
    assert data["departure"] == "2030-06-03"
    assert UUID(data["pool_id"])
    assert not {"originator_id", "originator_version", "originator_topic", "timestamp"} & set(data)


def test_the_headers_carry_id_type_version_position_and_correlation_id(
    app: Reservations, hold: HoldFn
) -> None:
    booking = hold()
    record = held(app)
    headers = dict(record.headers)
    assert headers == {
        "event-id": str(event_id(booking.id, 1)).encode(),
        "event-type": b"Booking.Held",
        "aggregate-type": b"booking",
        "aggregate-id": str(booking.id).encode(),
        "version": b"1",
        "position": str(record.position).encode(),
        "correlation-id": b"corr-1",
        "content-type": b"application/json",
    }


def test_publishing_an_event_twice_gives_the_same_record(app: Reservations, hold: HoldFn) -> None:
    hold()
    assert records(app) == records(app)


def test_the_topic_prefix_is_configurable(app: Reservations, hold: HoldFn) -> None:
    hold()
    assert {r.topic for r in records(app, prefix="acme.berth.")} >= {"acme.berth.booking"}
