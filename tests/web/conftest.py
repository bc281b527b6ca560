"""Screen test fixtures: the screen's Falcon app on a fresh migrated database, staff users
of each role, a facility with gates, and the projection workers in threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from falcon import testing
from screen_support import PASSWORD, START, Client, Clock, World, make_world

from berth.adapters.postgres.database import request_pool
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.staff import users
from berth.web.app import create_app
from berth.web.settings import Screen, ScreenSettings


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def screen(app_db_url: str, clock: Clock) -> Iterator[Screen]:
    """As deployed: connected as the application role."""
    reservations = open_reservations(app_db_url, clock=clock)
    pool = request_pool(app_db_url, max_size=8)
    yield Screen(reservations=reservations, pool=pool, clock=clock)
    pool.close()
    reservations.night_lock.close()  # type: ignore[attr-defined]
    reservations.close()


@pytest.fixture
def settings() -> ScreenSettings:
    return ScreenSettings(poll_seconds=0.5, consistency_timeout=5.0)


@pytest.fixture
def staff(screen: Screen) -> dict[str, str]:
    """A staff user per role, named after it."""
    with screen.pool.connection() as conn:
        for role in users.ROLES:
            users.create_user(conn, username=role, role=role, password=PASSWORD)
    return {role: role for role in users.ROLES}


@pytest.fixture
def client(screen: Screen, settings: ScreenSettings, staff: dict[str, str]) -> Client:
    return Client(testing.TestClient(create_app(screen, settings)))


@pytest.fixture
def world(screen: Screen) -> World:
    return make_world(screen.reservations)


@pytest.fixture
def workers(app_db_url: str) -> Iterator[None]:
    """Every projection worker, in background threads."""
    from berth.workers import run_worker  # noqa: PLC0415 - tests may import workers

    stop = threading.Event()
    threads = [
        threading.Thread(target=run_worker, args=(name, app_db_url, stop), daemon=True)
        for name in ("availability", "bookings", "occupancy", "ledger")
    ]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
