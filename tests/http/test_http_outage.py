"""The API when PostgreSQL goes away: 503 database-unavailable at once, and recovery.

The server here is the shared one, so it is never stopped: a dropped connection
is played by terminating this test database's sessions (what a server restart
does to them), and an unreachable server by pointing an app at a port where
nothing listens. tests/integration/test_database_outage.py stops and starts a
private server under load.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import psycopg
import pytest
from falcon import testing
from http_support import Api, World, hold, hold_body, problem_type
from psycopg.rows import tuple_row

from berth.adapters.postgres import idempotency
from berth.adapters.postgres.database import Timeouts, request_pool
from berth.adapters.postgres.night_lock import AdvisoryNightLock, advisory_key
from berth.http import Services, Settings, create_app
from private_postgres import free_port


def drop_every_session(db_url: str) -> int:
    """Terminate every other session on this test's database; how many."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_the_first_requests_after_the_server_dropped_every_connection_succeed(
    api: Api, world: World, db_url: str
):
    first = api.post("/bookings", hold_body(world), who="web")
    assert first.status_code == 201, first.text
    assert drop_every_session(db_url) > 0

    hold = api.post("/bookings", hold_body(world), who="web")
    cancel = api.post(f"/bookings/{first.json['id']}/cancel", {}, who="web")
    read = api.get(f"/ledger/bookings/{first.json['id']}/statement", who="finance")

    assert hold.status_code == 201, hold.text
    assert cancel.status_code == 200, cancel.text
    assert read.status_code != 500, read.text


@pytest.fixture
def unreachable_api(services: Services) -> Api:
    """The app whose read pool points at a server that is not there (nothing listens)."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/berth"
    pool = request_pool(url, max_size=2, timeouts=Timeouts(connect=2, pool=1))
    unreachable = Services(reservations=services.reservations, pool=pool, clock=services.clock)
    api = Api(testing.TestClient(create_app(Settings(), unreachable)))
    api.tokens["web"] = "bk_" + uuid4().hex
    return api


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/availability"), ("POST", "/bookings"), ("GET", "/projections")],
)
def test_without_a_database_requests_get_503_database_unavailable_with_retry_after(
    unreachable_api: Api, method: str, path: str
):
    if method == "GET":
        answer = unreachable_api.get(path, who="web")
    else:
        answer = unreachable_api.post(path, {"pool_id": str(uuid4())}, who="web")

    assert answer.status_code == 503, answer.text
    assert problem_type(answer) == "database-unavailable"
    assert int(answer.headers["retry-after"]) > 0


def test_every_keyed_endpoint_declares_the_503_in_the_openapi_document(api: Api):
    document = api.get("/openapi.json", who=None).json
    keyed = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]

    assert keyed
    assert all("503" in operation["responses"] for _, _, operation in keyed)


def test_night_locks_whose_connection_died_are_released_without_an_error(db_url: str):
    lock = AdvisoryNightLock(db_url, max_size=2)
    night = uuid4()
    try:
        with lock([night]):
            assert drop_every_session(db_url) >= 1  # the lock's own session among them

        with lock([night]):  # the pool replaced the dead connection
            pass
        with psycopg.connect(db_url, autocommit=True) as other:
            row = other.execute("SELECT pg_try_advisory_lock(%s)", (advisory_key(night),))
            assert row.fetchone() == (True,)
    finally:
        lock.close()


def test_an_idempotency_claim_whose_connection_died_ends_without_an_error(db_url: str):
    conn = psycopg.connect(db_url, autocommit=True)
    try:
        with idempotency.claim(conn, "key-1", "retry-me") as taken:
            assert taken
            drop_every_session(db_url)
        assert conn.closed
    finally:
        conn.close()


def test_every_pool_a_request_uses_bounds_connecting_and_each_statement(services: Services):
    recorder: Any = services.reservations.recorder
    pools = [services.pool, recorder.datastore.pool]  # night locks are in the command's own

    for pool in pools:
        with pool.connection() as conn:
            row = conn.cursor(row_factory=tuple_row).execute("SHOW statement_timeout").fetchone()
            assert row == ("15s",)
            assert conn.info.get_parameters()["connect_timeout"] == "3"


def test_a_hold_that_committed_is_answered_201_even_if_its_connection_dies_right_after(
    api: Api, world: World, db_url: str
):
    """The answer is stored after the commit; here that step cuts its own session."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION cut_the_session() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER cut_answers BEFORE UPDATE ON idempotency_keys"
            " FOR EACH ROW EXECUTE FUNCTION cut_the_session()"
        )
    headers = {"Idempotency-Key": "after-commit"}

    first = api.post("/bookings", hold_body(world), who="web", headers=headers)
    again = api.post("/bookings", hold_body(world), who="web", headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.headers.get("idempotency-replayed") == "true"
    assert again.json["id"] == first.json["id"]


def test_a_statement_timed_out_in_availabilitys_pipeline_is_a_503_and_the_next_read_succeeds(
    api: Api, services: Services, world: World, workers: None, app_db_url: str, db_url: str
):
    # /availability sends its three statements in one pipeline; the third (the rate
    # plans) waits on a lock past the statement timeout. One connection in the pool,
    # so the next read is served by what that failure left behind.
    pool = request_pool(app_db_url, max_size=1, timeouts=Timeouts(statement=0.5))
    one = Services(reservations=services.reservations, pool=pool, clock=services.clock)
    reads = Api(testing.TestClient(create_app(Settings(), one)), tokens=api.tokens)
    booking = hold(api, world)
    query = f"/availability?pool_id={world.pool_id}&from=2030-06-01&to=2030-06-03"
    before = reads.get(f"{query}&min_position={booking['position']}", who="web")
    assert before.status_code == 200, before.text

    with psycopg.connect(db_url) as locker:
        locker.execute("LOCK TABLE availability_rate_plans IN ACCESS EXCLUSIVE MODE")
        timed_out = reads.get(query, who="web")
        locker.rollback()
    after = reads.get(query, who="web")
    pool.close()

    assert timed_out.status_code == 503, timed_out.text
    assert problem_type(timed_out) == "database-unavailable"
    assert after.status_code == 200, after.text
    assert after.json == before.json
