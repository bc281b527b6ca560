"""`berth worker NAME` as real processes: killed mid-batch, restarted, failed over, stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest

from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.inventory import NightInventory
from berth.domain.stay import Stay
from projection_support import Clock, cause, head, position, read_models, rebuild

NIGHT = date(2030, 6, 10)
BERTH = Path(sys.executable).with_name("berth")


@pytest.fixture
def app(db_url: str) -> Iterator[Reservations]:
    application = open_reservations(db_url, clock=Clock())
    yield application
    application.close()


def new_pool(app: Reservations) -> UUID:
    facility = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
    return app.add_pool(
        facility_id=facility, name="Long stay", capacity=100_000, nightly_price=1500,
        currency="GBP", cause=cause(),
    ).id  # fmt: skip


def bulk_bookings(app: Reservations, pool_id: UUID, count: int, *, chunk: int = 20) -> None:
    """`count` three-night bookings, every other one confirmed, saved many per transaction.

    Built on the aggregates directly: the commands' one-booking transactions would
    take far longer to fill the log.
    """
    pool = app.pool(pool_id)
    now, meta = app.clock(), cause().as_metadata()
    inventories: dict[date, NightInventory] = {}
    pending: list[Booking] = []
    for i in range(count):
        stay = Stay(NIGHT + timedelta(days=i % 20), NIGHT + timedelta(days=i % 20 + 3))
        booking = Booking.hold(
            booking_id=uuid4(), reference=f"B{i:07d}", facility_id=pool.facility_id,
            pool_id=pool.id, channel="web", stay=stay, quantity=1, guest={"name": f"g{i}"},
            plates=[], hold_expires_at=now + timedelta(hours=1), nightly_price=pool.nightly_price,
            currency=pool.currency, time_zone=pool.time_zone,
            cancellation=pool.cancellation_policy, now=now, cause=meta,
        )  # fmt: skip
        nights = []
        for night in stay.days():
            if night not in inventories:
                inventories[night] = NightInventory.open(
                    pool_id=pool.id, night=night, capacity=pool.capacity, now=now, cause=meta
                )
            nights.append(inventories[night])
            nights[-1].allocate(
                booking_id=booking.id, quantity=1, expires_at=booking.hold_expires_at,
                now=now, cause=meta,
            )  # fmt: skip
        if i % 2:
            booking.confirm(now=now, cause=meta)
            for inventory in nights:
                inventory.firm(booking_id=booking.id, quantity=1, now=now, cause=meta)
        pending.append(booking)
        if len(pending) == chunk or i == count - 1:
            app.save(*pending, *inventories.values())
            pending = []


def start_worker(
    db_url: str, name: str, log: Path, page_size: int = 500
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, BERTH_DATABASE_URL=db_url, BERTH_PROJECTION_PAGE_SIZE=str(page_size))
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BERTH), "worker", name], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(every)


def sessions(db_url: str, application_name: str, busy: bool = False) -> int:
    """How many sessions of that name are open (busy: in a transaction right now)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database()"
            " AND (NOT %s OR (state <> 'idle' AND xact_start IS NOT NULL))",
            (application_name, busy),
        ).fetchone()
    assert row is not None
    return int(row[0])


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=10)


def test_a_worker_killed_mid_batch_and_restarted_ends_equal_to_a_rebuild(
    db_url: str, app: Reservations, tmp_path: Path
) -> None:
    bulk_bookings(app, new_pool(app), 3000)
    end = head(db_url)
    log = tmp_path / "worker.log"

    first = start_worker(db_url, "availability", log)
    try:
        wait_until(
            lambda: (
                position(db_url, "availability") > 0
                and sessions(db_url, "berth-worker:availability", busy=True) == 1
            ),
            every=0.002,
        )
    finally:
        first.kill()  # SIGKILL: no handler runs, the open transaction is cut off
    first.wait(timeout=10)
    killed_at = position(db_url, "availability")
    assert 0 < killed_at < end, "the kill must land before the worker caught up"

    second = start_worker(db_url, "availability", log)
    try:
        wait_until(lambda: position(db_url, "availability") == end)
    finally:
        assert stop(second) == 0, log.read_text()
    live = read_models(db_url, "availability")

    assert live == rebuild(db_url, app, "availability")
    assert len(live["availability_allocations"]) == 3000 * 3


def test_a_standby_worker_takes_over_when_the_active_one_dies(
    db_url: str, app: Reservations, tmp_path: Path
) -> None:
    pool = new_pool(app)
    active = start_worker(db_url, "bookings", tmp_path / "active.log")
    standby: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: sessions(db_url, "berth-worker:bookings") == 1)
        standby = start_worker(db_url, "bookings", tmp_path / "standby.log")
        wait_until(lambda: sessions(db_url, "berth-lock:projection:bookings") == 2)
        assert sessions(db_url, "berth-worker:bookings") == 1  # the standby only waits

        active.kill()
        active.wait(timeout=10)
        stay = Stay(NIGHT, NIGHT + timedelta(days=1))
        held = app.hold(pool_id=pool, stay=stay, quantity=1, guest={"name": "Ada"}, cause=cause())

        wait_until(lambda: position(db_url, "bookings") >= held.position)
        assert sessions(db_url, "berth-worker:bookings") == 1
        assert "lock acquired" in (tmp_path / "standby.log").read_text()
    finally:
        if active.poll() is None:
            active.kill()
        if standby is not None:
            assert stop(standby) == 0, (tmp_path / "standby.log").read_text()


def test_a_standing_by_worker_stops_cleanly_on_sigterm(db_url: str, tmp_path: Path) -> None:
    active = start_worker(db_url, "expire-holds", tmp_path / "active.log")
    try:
        wait_until(lambda: sessions(db_url, "berth-worker:expire-holds") == 1)
        standby = start_worker(db_url, "expire-holds", tmp_path / "standby.log")
        wait_until(lambda: sessions(db_url, "berth-lock:expire-holds") == 2)
        assert stop(standby) == 0
    finally:
        assert stop(active) == 0
    assert "stopped" in (tmp_path / "active.log").read_text()
