"""Helpers for the projection-failure tests: poison events, the `berth` command, waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID, uuid4

import psycopg

from berth.domain.application import Reservations
from berth.domain.cancellation import CancellationPolicy
from berth.domain.command_context import CommandContext
from berth.domain.pool import Pool
from projection_support import cause

BERTH = Path(sys.executable).with_name("berth")
TOO_BIG_FOR_BIGINT = 2**63  # the availability and bookings read models keep prices as bigint


def facility(app: Reservations) -> UUID:
    return app.catalogue.register_facility(
        name="Harbour", time_zone="UTC", context=CommandContext(cause=cause())
    ).id


def pool(app: Reservations, facility_id: UUID, name: str = "Long stay") -> int:
    """A pool added by the command; the position of its last event."""
    added = app.catalogue.add_pool(
        facility_id=facility_id, name=name, capacity=10, nightly_price=1500,
        currency="GBP", context=CommandContext(cause=cause()),
    )  # fmt: skip
    return added.position


def poison_pool(app: Reservations, facility_id: UUID) -> tuple[UUID, int]:
    """A `Pool.Added` whose price no bigint holds, stored as an old event might have been.

    Built on the aggregate's own event, past the command's checks (which may well
    refuse such a price), through the real store and mapper.
    """
    pool = Pool._create(
        Pool.Added, id=uuid4(), timestamp=app.clock(), cause=cause().as_metadata(),
        facility_id=facility_id, name="Poison", capacity=10, nightly_price=TOO_BIG_FOR_BIGINT,
        currency="GBP", time_zone="UTC", cancellation=CancellationPolicy().as_dict(),
    )  # fmt: skip
    [recording] = app.save(pool)
    assert recording.notification.id is not None
    return pool.id, recording.notification.id


def berth(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BERTH_DATABASE_URL=db_url)
    return subprocess.run(
        [str(BERTH), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def start_worker(db_url: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    """The worker, retrying a failed event only when told to (its backoff is an hour)."""
    env = dict(
        os.environ, BERTH_DATABASE_URL=db_url, BERTH_PROJECTION_PAGE_SIZE="500",
        BERTH_PROJECTION_RETRY_SECONDS="3600",
    )  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BERTH), "worker", name], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` until true; a bound against hanging, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.02)


def failure(db_url: str, projection: str) -> tuple[int, str, str, int] | None:
    """The recorded failure: (position, error class, message, attempts)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT position, error_class, error_message, attempts"
            " FROM projection_failures WHERE projection = %s",
            (projection,),
        ).fetchone()
    return None if row is None else (int(row[0]), row[1], row[2], int(row[3]))


def pool_names(db_url: str) -> set[str]:
    with psycopg.connect(db_url) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM availability_pools")}
