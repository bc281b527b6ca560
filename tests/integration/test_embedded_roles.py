"""The embedded default (no BERTH_DATABASE_URL): two roles, migrated as the owner,
the application handed the least-privileged one, the event store sealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from berth.adapters.audit import audit_chain
from berth.adapters.postgres import database, database_roles, migrations
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.cause import Cause
from berth.domain.stay import Stay

CAUSE = Cause(principal="embedded-test", channel="web", request_id="r", correlation_id="c")


def test_the_embedded_default_migrates_as_the_owner_and_runs_the_app_as_the_app_role(
    tmp_path: Path,
):
    environ = {"BERTH_DATA_DIR": str(tmp_path / "var")}

    applied = migrations.migrate_deployment(environ)

    app_url, owner_url = database.database_url(environ), database.migrate_database_url(environ)
    assert "0090" in applied
    assert database_roles.current_role(app_url) == database_roles.APP_ROLE
    assert database_roles.current_role(owner_url) == database_roles.OWNER_ROLE
    app = open_reservations(app_url)
    try:
        facility = app.register_facility(name="P1", time_zone="UTC", cause=CAUSE)
        pool = app.add_pool(
            facility_id=facility.id,
            name="long stay",
            capacity=3,
            nightly_price=1450,
            currency="EUR",
            cause=CAUSE,
        )
        arrival = datetime.now(UTC).date() + timedelta(days=30)
        held = app.hold(
            pool_id=pool.id,
            stay=Stay(arrival, arrival + timedelta(days=1)),
            quantity=1,
            guest={"name": "Ann Lee"},
            cause=CAUSE,
        )
        app.confirm(booking_id=held.id, cause=CAUSE)
    finally:
        app.close()
    for url, statement in [
        (app_url, "DELETE FROM berth_events"),
        (app_url, "UPDATE event_chain_head SET length = 0"),
        (owner_url, "ALTER TABLE berth_events DISABLE TRIGGER ALL"),
        (owner_url, "DELETE FROM event_chain"),
    ]:
        with psycopg.connect(url) as conn, pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement.encode())
    assert audit_chain.verify(app_url).ok
    assert migrations.migrate_deployment(environ) == []


def test_an_embedded_store_migrated_as_the_superuser_before_the_roles_is_adopted(
    tmp_path: Path,
):
    environ = {"BERTH_DATA_DIR": str(tmp_path / "var")}
    superuser = database.embedded_superuser_url(environ)
    migrations.migrate(superuser)  # as Berth did before the roles: the superuser owns it all
    with psycopg.connect(superuser, autocommit=True) as conn:
        database_roles.adopt_objects(conn)  # what every process does first on the embedded server

    assert migrations.migrate_deployment(environ) == []

    with psycopg.connect(database.migrate_database_url(environ)) as conn:
        owners = conn.execute(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN"
            " ('berth_events', 'berth_snapshots', 'event_chain', 'event_chain_head')"
        ).fetchall()
    assert owners == [(database_roles.OWNER_ROLE,)]
    with psycopg.connect(database.database_url(environ)) as conn:
        conn.execute("INSERT INTO relay_positions (relay) VALUES ('x')")
