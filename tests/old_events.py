"""Booking events exactly as Berth stored them before the guest's name was split (class version 1).

Captured from the code of commit 4239eea (`Booking.Held` and `Booking.Amended`
with `guest: {"name": ...}`, no `class_version` key): a hold for "Ada Lovelace",
then an amendment to "Augusta Ada King". `store_v1_booking` writes them as a
booking of a real pool through the application's recorder, so they are chained,
projected and read like any stored event; only their bytes are old.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import StoredEvent

from berth.domain.application import Reservations

FACILITY_HEX = "79cf14594c8a49aeb1dd76533163dde2"
POOL_HEX = "6576451fa641492694239eea6b222999"

HELD_V1 = (
    '{"timestamp":{"_type_":"datetime_iso","_data_":"2030-06-01T09:00:00+00:00"},'
    '"originator_topic":"berth.domain.booking:Booking",'
    '"cause":{"principal":"key:web","channel":"web","request_id":"req-1","correlation_id":"req-1"},'
    '"reference":"7Q4M2XKD",'
    '"facility_id":{"_type_":"uuid_hex","_data_":"79cf14594c8a49aeb1dd76533163dde2"},'
    '"pool_id":{"_type_":"uuid_hex","_data_":"6576451fa641492694239eea6b222999"},'
    '"channel":"web","arrival":{"_type_":"date_iso","_data_":"2030-06-01"},'
    '"departure":{"_type_":"date_iso","_data_":"2030-06-03"},"quantity":1,'
    '"guest":{"name":"Ada Lovelace","email":"ada@example.com"},"plates":["AB12 CDE"],'
    '"hold_expires_at":{"_type_":"datetime_iso","_data_":"2030-06-01T09:15:00+00:00"},'
    '"nightly_price":1200,"currency":"EUR","total":2400,"time_zone":"Europe/London",'
    '"cancellation":{"free_until_hours":48,"fee_percent":100}}'
)
AMENDED_V1 = (
    '{"timestamp":{"_type_":"datetime_iso","_data_":"2030-06-01T09:00:00+00:00"},'
    '"cause":{"principal":"key:web","channel":"web","request_id":"req-1","correlation_id":"req-1"},'
    '"arrival":{"_type_":"date_iso","_data_":"2030-06-01"},'
    '"departure":{"_type_":"date_iso","_data_":"2030-06-03"},"quantity":1,'
    '"guest":{"name":"Augusta Ada King","phone":"+44 20 7946 0000"},"plates":["AB12 CDE"],'
    '"total":2400,"previous_total":2400}'
)


def v1_events(booking_id: UUID, *, facility_id: UUID, pool_id: UUID) -> list[StoredEvent]:
    """The two old events, as a booking `booking_id` of the given facility and pool."""
    ids = {FACILITY_HEX: facility_id.hex, POOL_HEX: pool_id.hex}
    events = []
    for version, (topic, captured) in enumerate(
        [("Booking.Held", HELD_V1), ("Booking.Amended", AMENDED_V1)], start=1
    ):
        state = captured
        for old, new in ids.items():
            state = state.replace(old, new)
        events.append(
            StoredEvent(
                originator_id=booking_id,
                originator_version=version,
                topic=f"berth.domain.booking:{topic}",
                state=state.encode(),
            )
        )
    return events


def store_v1_booking(
    app: Reservations, booking_id: UUID, *, facility_id: UUID, pool_id: UUID
) -> list[int]:
    """Store the old events through the application's recorder; their positions."""
    ids = app.recorder.insert_events(
        v1_events(booking_id, facility_id=facility_id, pool_id=pool_id)
    )
    assert ids is not None
    return list(ids)
