"""HTTP test fixtures: the Falcon app on a fresh migrated database, keys for every role.

`api` wraps falcon.testing.TestClient with the keys; `world` is a facility with
one pool made through the API, so each test starts from the state it needs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from falcon import testing
from http_support import START, Api, Clock, World, make_key

from berth.adapters.postgres.database import request_pool
from berth.adapters.postgres.eventstore import open_reservations
from berth.http import Services, Settings, create_app


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def services(app_db_url: str, clock: Clock) -> Iterator[Services]:
    """As deployed: connected as the application role (BERTH_DATABASE_URL)."""
    reservations = open_reservations(app_db_url, clock=clock)
    pool = request_pool(app_db_url, max_size=8)  # as the gunicorn entry point makes it
    yield Services(reservations=reservations, pool=pool, clock=clock)
    pool.close()
    reservations.night_lock.close()  # type: ignore[attr-defined]
    reservations.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(key_cache_seconds=0, consistency_timeout=1.0, max_body_bytes=4096)


@pytest.fixture
def api(services: Services, settings: Settings) -> Api:
    api = Api(testing.TestClient(create_app(settings, services)))
    for role in ("operations", "finance", "auditor", "admin"):
        api.tokens[role] = make_key(services, role)
    api.tokens["web"] = make_key(services, "booking", "web")
    api.tokens["reseller"] = make_key(services, "booking", "reseller")
    return api


@pytest.fixture
def world(api: Api, services: Services) -> World:
    facility = api.post("/facilities", {"name": "Harbour car park", "time_zone": "Europe/London"})
    assert facility.status_code == 201, facility.text
    pool = api.post(
        f"/facilities/{facility.json['id']}/pools",
        {"name": "Long stay", "capacity": 5, "nightly_price": 1200, "currency": "EUR"},
    )
    assert pool.status_code == 201, pool.text
    api.tokens["gate_device"] = make_key(services, "gate_device", facility.json["id"])
    other = api.post("/facilities", {"name": "Other car park", "time_zone": "Europe/London"})
    assert other.status_code == 201, other.text
    api.tokens["other_gate"] = make_key(services, "gate_device", other.json["id"])
    return World(facility_id=facility.json["id"], pool_id=pool.json["id"])


@pytest.fixture
def workers(app_db_url: str) -> Iterator[None]:
    """The availability and bookings projection workers, in background threads."""
    from berth.workers import run_worker  # noqa: PLC0415 - tests may import workers

    stop = threading.Event()
    threads = [
        threading.Thread(target=run_worker, args=(name, app_db_url, stop), daemon=True)
        for name in ("availability", "bookings")
    ]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
