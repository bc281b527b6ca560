"""`berth booking show` and the booking commands print the booking as the API shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from berth import cli
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models import queries
from berth.domain.stay import Stay
from berth.http.schemas.answers import Booking
from projection_support import catch_up, cause


def test_booking_show_prints_what_get_bookings_answers(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    app = open_reservations(db_url)
    facility = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
    pool = app.add_pool(
        facility_id=facility, name="P", capacity=3, nightly_price=900, currency="EUR",
        cause=cause(),
    ).id  # fmt: skip
    arrival = (datetime.now(UTC) + timedelta(days=10)).date()
    booking_id = app.hold(
        pool_id=pool, stay=Stay(arrival, arrival + timedelta(days=2)), quantity=1,
        guest={"name": "Ada Lovelace"}, cause=cause(),
    ).id  # fmt: skip

    cli.main(["booking", "confirm", str(booking_id)])
    confirmed = json.loads(capsys.readouterr().out)
    app.record_payment(
        booking_id=booking_id, amount=500, currency="EUR", method="card", cause=cause()
    )
    cli.main(["booking", "show", str(booking_id)])
    shown = json.loads(capsys.readouterr().out)
    catch_up(db_url, app, "bookings")
    app.close()
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        row = queries.booking(conn, booking_id)
    assert shown == Booking().dump(row)
    assert (shown["balance_due"], shown["paid"], shown["status"]) == (1300, 500, "confirmed")
    assert confirmed == shown | {
        "version": confirmed["version"],
        "position": confirmed["position"],
        "paid": 0,
        "balance_due": 1800,
        "modified_at": confirmed["modified_at"],
    }
