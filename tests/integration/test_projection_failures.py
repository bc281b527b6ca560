"""A projection never halts silently: a poison event is recorded, health goes red, skip/retry."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from falcon import testing
from psycopg_pool import ConnectionPool

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.tracking import projection_admin
from berth.domain.application import Reservations
from berth.domain.projection_skip import AlreadySkipped, skip_id
from berth.http import Services, Settings, create_app
from berth.workers import PROJECTIONS, rebuild
from berth.workers.projection_runner import ApplyFailed
from failure_support import (
    berth,
    facility,
    failure,
    poison_pool,
    pool,
    pool_names,
    start_worker,
    wait_until,
)
from projection_support import Clock, catch_up, cause, head, position, runner


@pytest.fixture
def app(db_url: str) -> Iterator[Reservations]:
    application = open_reservations(db_url, clock=Clock())
    yield application
    application.close()


@pytest.fixture
def health(db_url: str, app: Reservations) -> Iterator[testing.TestClient]:
    pool = ConnectionPool(db_url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True)
    services = Services(reservations=app, pool=pool, clock=app.clock)
    yield testing.TestClient(create_app(Settings(), services))
    pool.close()


def test_a_page_that_cannot_be_applied_applies_every_event_before_the_bad_one(
    db_url: str, app: Reservations
) -> None:
    site = facility(app)
    before = [pool(app, site, f"before {i}") for i in range(5)]
    _, bad = poison_pool(app, site)
    pool(app, site, "after")

    with psycopg.connect(db_url) as conn, pytest.raises(ApplyFailed) as failed:
        runner(db_url, app, "availability").catch_up(conn)

    assert (failed.value.position, failed.value.reached) == (bad, bad - 1)
    assert "NumericValueOutOfRange" in str(failed.value)
    assert position(db_url, "availability") == bad - 1 == before[-1]
    assert pool_names(db_url) == {f"before {i}" for i in range(5)}
    # The other projections are not held back by it.
    assert catch_up(db_url, app, "bookings") == {"bookings": head(db_url)}


def test_a_worker_that_cannot_apply_an_event_stays_up_red_until_an_operator_skips_it(
    db_url: str, app: Reservations, health: testing.TestClient, tmp_path: Path
) -> None:
    site = facility(app)
    pool(app, site, "before")
    poisoned, bad = poison_pool(app, site)
    pool(app, site, "after")
    log = tmp_path / "worker.log"

    worker = start_worker(db_url, "availability", log)
    try:
        wait_until(lambda: failure(db_url, "availability") is not None)
        at, error_class, message, attempts = failure(db_url, "availability") or (0, "", "", 0)
        assert (at, attempts) == (bad, 1)
        assert error_class.endswith("NumericValueOutOfRange") and "bigint" in message
        assert position(db_url, "availability") == bad - 1
        assert pool_names(db_url) == {"before"}

        assert health.simulate_get("/health").json["status"] == "degraded"
        answer = health.simulate_get("/health/projections")
        assert answer.status_code == 503, answer.text
        assert answer.json["type"].endswith("/projection-failed")
        assert answer.json["failed"] == ["availability"]
        assert f"availability cannot apply the event at position {bad}" in answer.json["detail"]
        [shown] = [p for p in answer.json["statuses"] if p["projection"] == "availability"]
        assert (shown["state"], shown["failure"]["position"]) == ("failed", bad)

        checked = berth(db_url, "rebuild", "availability", "--check")
        assert checked.returncode == 1, checked.stderr
        assert f"availability failed: availability cannot apply the event at position {bad}" in (
            checked.stderr
        )
        rebuilt = berth(db_url, "rebuild", "availability")
        assert rebuilt.returncode == 3
        [reason] = [line for line in rebuilt.stderr.splitlines() if line.startswith("berth:")]
        assert f"cannot apply the event at position {bad}" in reason
        assert worker.poll() is None, log.read_text()  # still up, serving as failed

        skipped = berth(
            db_url, "projection", "skip", "availability", str(bad), "--reason", "price overflow"
        )
        assert skipped.returncode == 0, skipped.stderr
        wait_until(lambda: position(db_url, "availability") == head(db_url))
        assert failure(db_url, "availability") is None
        assert pool_names(db_url) == {"before", "after"}
        assert health.simulate_get("/health/projections").status_code == 200
        assert health.simulate_get("/health").json["status"] == "ok"
        assert worker.poll() is None, log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0, log.read_text()

    [event] = list(app.events.get(skip_id(projection="availability", position=bad)))
    assert (event.projection, event.position, event.reason) == (  # type: ignore[attr-defined]
        "availability", bad, "price overflow",
    )  # fmt: skip
    assert event.cause["principal"].startswith("cli:")  # type: ignore[attr-defined]
    assert event.cause["channel"] == "operations"  # type: ignore[attr-defined]
    assert event.cause["request_id"]  # type: ignore[attr-defined]
    # A rebuild passes over the skipped event too, so it matches the live tables.
    again = berth(db_url, "rebuild", "availability", "--check")
    assert again.returncode == 0, again.stderr
    assert poisoned not in {p for (p,) in _pool_ids(db_url)}


def _pool_ids(db_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT pool_id FROM availability_pools").fetchall()


def test_a_retry_after_the_fix_applies_the_event(
    db_url: str, app: Reservations, tmp_path: Path
) -> None:
    with psycopg.connect(db_url) as conn:  # a read model that refuses what the domain accepts
        conn.execute(
            "ALTER TABLE availability_pools"
            " ADD CONSTRAINT refuses_rejected CHECK (name <> 'Rejected')"
        )
    site = facility(app)
    pool(app, site, "before")
    rejected = pool(app, site, "Rejected")
    log = tmp_path / "worker.log"

    worker = start_worker(db_url, "availability", log)
    try:
        wait_until(lambda: failure(db_url, "availability") is not None)
        at, error_class, _, _ = failure(db_url, "availability") or (0, "", "", 0)
        assert error_class.endswith("CheckViolation")
        assert at == rejected and position(db_url, "availability") == at - 1

        with psycopg.connect(db_url) as conn:  # the fix
            conn.execute("ALTER TABLE availability_pools DROP CONSTRAINT refuses_rejected")
        retried = berth(db_url, "projection", "retry", "availability", str(at))
        assert retried.returncode == 0, retried.stderr

        wait_until(lambda: position(db_url, "availability") == head(db_url))
        assert pool_names(db_url) == {"before", "Rejected"}
        assert failure(db_url, "availability") is None
        assert worker.poll() is None, log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0, log.read_text()


def test_skip_and_retry_refuse_what_they_cannot_mean(db_url: str, app: Reservations) -> None:
    site = facility(app)
    applied = pool(app, site)
    catch_up(db_url, app, "availability")
    _, bad = poison_pool(app, site)

    with psycopg.connect(db_url) as conn:
        with pytest.raises(projection_admin.AlreadyApplied):
            projection_admin.skip(
                conn, app, projection="availability", position=applied, reason="x", cause=cause()
            )
        with pytest.raises(projection_admin.UnknownProjection):
            projection_admin.skip(
                conn, app, projection="nonesuch", position=bad, reason="x", cause=cause()
            )
        with pytest.raises(projection_admin.UnknownPosition):
            projection_admin.skip(
                conn, app, projection="availability", position=bad + 100, reason="x",
                cause=cause(),
            )  # fmt: skip
        with pytest.raises(projection_admin.NoFailure):
            projection_admin.retry(conn, projection="availability", position=bad)
        projection_admin.skip(
            conn, app, projection="availability", position=bad, reason="x", cause=cause()
        )
        with pytest.raises(AlreadySkipped):
            projection_admin.skip(
                conn, app, projection="availability", position=bad, reason="x", cause=cause()
            )
    unknown = berth(db_url, "projection", "retry", "availability", str(bad))
    assert unknown.returncode == 1
    assert (
        unknown.stderr.strip() == f"berth: availability has no failure recorded at position {bad}"
    )


def test_a_check_reports_a_projection_that_has_fallen_behind(db_url: str) -> None:
    long_ago = open_reservations(db_url, clock=Clock(datetime(2020, 1, 1, tzinfo=UTC)))
    try:
        facility(long_ago)  # and no worker applies it
    finally:
        long_ago.close()
    checked = rebuild.check(db_url, PROJECTIONS["ledger"], app_mapper(db_url), stuck_after=300)
    assert not checked.same and checked.failure is None
    assert checked.stuck is not None and "is its worker running?" in checked.stuck


def app_mapper(db_url: str) -> Any:
    from berth.adapters.tracking.projection_store import event_mapper  # noqa: PLC0415

    return event_mapper()
