"""The read-model queries, over rows written straight into the read-model tables."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from berth.adapters.postgres import event_wakeups
from berth.adapters.read_models import queries

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
DAY = date(2030, 6, 10)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


def add_pool(conn: psycopg.Connection[Any], *, capacity: int = 10) -> UUID:
    pool_id = uuid4()
    conn.execute(
        "INSERT INTO availability_pools VALUES (%s, %s, 'Long stay', %s, 1500, 'GBP', 'UTC')",
        (pool_id, uuid4(), capacity),
    )
    return pool_id


def allocate(
    conn: psycopg.Connection[Any], pool_id: UUID, night: date, qty: int, expires: datetime | None
) -> None:
    conn.execute(
        "INSERT INTO availability_allocations VALUES (%s, %s, %s, %s, %s)",
        (pool_id, night, uuid4(), qty, expires),
    )


def add_booking(conn: psycopg.Connection[Any], position: int, **fields: Any) -> UUID:
    row: dict[str, Any] = {
        "booking_id": uuid4(),
        "reference": f"REF{position:05d}",
        "facility_id": uuid4(),
        "pool_id": uuid4(),
        "channel": "web",
        "status": "confirmed",
        "arrival": DAY,
        "departure": DAY + timedelta(days=2),
        "quantity": 1,
        "guest": Jsonb({"given_name": "Ada", "family_name": "Lovelace"}),
        "plates": Jsonb(["AB12CDE"]),
        "hold_expires_at": NOW,
        "currency": "GBP",
        "nightly_price": 1500,
        "total": 3000,
        "version": 2,
        "position": position,
        "created_at": NOW,
        "modified_at": NOW + timedelta(minutes=position),
    }
    row.update(fields)
    columns = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    conn.execute(f"INSERT INTO bookings ({columns}) VALUES ({marks})".encode(), list(row.values()))
    return UUID(str(row["booking_id"]))


def test_availability_counts_live_holds_and_confirmed_per_night(
    conn: psycopg.Connection[Any],
) -> None:
    pool_id = add_pool(conn, capacity=10)
    conn.execute("INSERT INTO availability_nights VALUES (%s, %s, 4)", (pool_id, DAY))
    allocate(conn, pool_id, DAY, 2, None)
    allocate(conn, pool_id, DAY, 1, NOW + timedelta(minutes=5))
    allocate(conn, pool_id, DAY + timedelta(days=1), 3, NOW + timedelta(minutes=5))

    nights = queries.availability(
        conn, pool_id=pool_id, first_night=DAY, last_night=DAY + timedelta(days=2), now=NOW
    )

    assert nights == [
        {"night": DAY, "capacity": 4, "held": 1, "confirmed": 2, "remaining": 1},
        {"night": DAY + timedelta(days=1), "capacity": 10, "held": 3, "confirmed": 0,
         "remaining": 7},
        {"night": DAY + timedelta(days=2), "capacity": 10, "held": 0, "confirmed": 0,
         "remaining": 10},
    ]  # fmt: skip


def test_an_expired_hold_stops_counting_at_once(conn: psycopg.Connection[Any]) -> None:
    pool_id = add_pool(conn, capacity=5)
    expires = NOW + timedelta(minutes=15)
    allocate(conn, pool_id, DAY, 2, expires)

    def held_at(now: datetime) -> int:
        nights = queries.availability(
            conn, pool_id=pool_id, first_night=DAY, last_night=DAY, now=now
        )
        assert nights is not None
        return int(nights[0]["held"])

    assert held_at(expires - timedelta(microseconds=1)) == 2
    assert held_at(expires) == 0


def test_availability_of_an_unknown_pool_is_none(conn: psycopg.Connection[Any]) -> None:
    assert (
        queries.availability(conn, pool_id=uuid4(), first_night=DAY, last_night=DAY, now=NOW)
        is None
    )


def test_availability_refuses_a_range_over_a_year(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(queries.RangeTooLong):
        queries.availability(
            conn, pool_id=uuid4(), first_night=DAY, last_night=DAY + timedelta(days=400), now=NOW
        )


def test_booking_returns_the_whole_row_or_none(conn: psycopg.Connection[Any]) -> None:
    booking_id = add_booking(conn, 7)
    row = queries.booking(conn, booking_id)
    assert row is not None
    assert row["version"] == 2
    assert row["position"] == 7
    assert row["guest"] == {"given_name": "Ada", "family_name": "Lovelace"}
    assert row["plates"] == ["AB12CDE"]
    assert queries.booking(conn, uuid4()) is None


def test_list_bookings_pages_by_position_with_a_cursor(conn: psycopg.Connection[Any]) -> None:
    ids = [add_booking(conn, position) for position in (5, 3, 9, 1, 7)]
    by_position = [ids[3], ids[1], ids[0], ids[4], ids[2]]

    seen: list[UUID] = []
    cursor: int | None = None
    pages = 0
    while True:
        rows, cursor = queries.list_bookings(conn, after=cursor, limit=2)
        seen += [row["booking_id"] for row in rows]
        pages += 1
        if cursor is None:
            break
    assert seen == by_position
    assert pages == 3


def test_list_bookings_applies_every_filter(conn: psycopg.Connection[Any]) -> None:
    facility = uuid4()
    match = add_booking(conn, 1, facility_id=facility, channel="resell", status="held")
    add_booking(conn, 2, facility_id=facility, channel="web", status="held")
    add_booking(conn, 3, facility_id=facility, channel="resell", status="confirmed")
    add_booking(conn, 4, facility_id=facility, channel="resell", status="held",
                arrival=DAY + timedelta(days=1))  # fmt: skip
    add_booking(conn, 5, channel="resell", status="held")

    rows, cursor = queries.list_bookings(
        conn, facility_id=facility, status="held", arrival=DAY, channel="resell"
    )
    assert [row["booking_id"] for row in rows] == [match]
    assert cursor is None


def test_list_bookings_modified_since_is_inclusive(conn: psycopg.Connection[Any]) -> None:
    add_booking(conn, 1)
    second = add_booking(conn, 2)
    third = add_booking(conn, 3)
    rows, _ = queries.list_bookings(conn, modified_since=NOW + timedelta(minutes=2))
    assert [row["booking_id"] for row in rows] == [second, third]


def test_arrivals_and_departures_list_confirmed_and_checked_in_bookings_of_the_day(
    conn: psycopg.Connection[Any],
) -> None:
    facility = uuid4()
    statuses = ["held", "confirmed", "checked_in", "checked_out", "cancelled", "expired",
                "no_show"]  # fmt: skip
    ids = {
        status: add_booking(conn, n, facility_id=facility, status=status)
        for n, status in enumerate(statuses, start=1)
    }
    add_booking(conn, 20, facility_id=facility, status="confirmed", arrival=DAY + timedelta(1),
                departure=DAY + timedelta(3))  # fmt: skip
    add_booking(conn, 21, status="confirmed")  # another facility
    reseller = add_booking(conn, 22, facility_id=facility, status="confirmed", channel="resell")

    arriving = queries.arrivals(conn, facility_id=facility, day=DAY)
    assert {row["booking_id"] for row in arriving} == {
        ids["confirmed"],
        ids["checked_in"],
        reseller,
    }
    only_reseller = queries.arrivals(conn, facility_id=facility, day=DAY, channel="resell")
    assert [row["booking_id"] for row in only_reseller] == [reseller]

    leaving = queries.departures(conn, facility_id=facility, day=DAY + timedelta(days=2))
    assert {row["booking_id"] for row in leaving} == {
        ids["confirmed"],
        ids["checked_in"],
        reseller,
    }
    assert queries.departures(conn, facility_id=facility, day=DAY) == []


def set_position(url: str, name: str, position: int) -> None:
    with psycopg.connect(url, autocommit=True) as other:
        other.execute(
            "INSERT INTO projection_positions (projection, position) VALUES (%s, %s)"
            " ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position",
            (name, position),
        )
        other.execute(
            "SELECT pg_notify(%s, %s)", (event_wakeups.POSITIONS_CHANNEL, f"{name}:{position}")
        )


@pytest.mark.parametrize("autocommit", [True, False])
def test_wait_for_position_returns_once_every_projection_reaches_it(
    db_url: str, autocommit: bool
) -> None:
    set_position(db_url, "bookings", 10)

    def advance() -> None:
        time.sleep(0.2)
        set_position(db_url, "availability", 10)

    with psycopg.connect(db_url, autocommit=autocommit) as conn:
        thread = threading.Thread(target=advance)
        thread.start()
        started = time.monotonic()
        reached = queries.wait_for_position(
            conn, projections=["availability", "bookings"], min_position=10, timeout=5
        )
        waited = time.monotonic() - started
        thread.join()
    assert reached
    assert 0.15 < waited < 1.0


@pytest.mark.parametrize("autocommit", [True, False])
def test_wait_for_position_gives_up_after_the_timeout(db_url: str, autocommit: bool) -> None:
    set_position(db_url, "availability", 3)
    with psycopg.connect(db_url, autocommit=autocommit) as conn:
        started = time.monotonic()
        reached = queries.wait_for_position(
            conn, projections=["availability"], min_position=4, timeout=0.2
        )
        assert time.monotonic() - started < 1.0
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert not reached


def test_projection_status_of_an_empty_store_shows_no_lag(conn: psycopg.Connection[Any]) -> None:
    status = queries.projection_status(conn)
    assert {row["projection"] for row in status} >= {"availability", "bookings"}
    assert all(row["lag_events"] == 0 and row["lag_seconds"] == 0 for row in status)
