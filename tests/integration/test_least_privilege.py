"""Least privilege: what the application role and the owner can and cannot do.

The test database is migrated as deployed (tests/conftest.py): by ``berth_owner``,
granting ``berth_app`` its rights, and sealed by the superuser (the event store and
chain then belong to ``berth_store``, which nobody can log in as or become).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import errors, sql

from berth.adapters.audit import audit_chain
from berth.adapters.postgres import database_roles
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.postgres.migrations import default_directory, migrate
from berth.adapters.read_models import tables as read_models
from berth.adapters.tracking.projection_store import event_mapper
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay
from berth.workers import PROJECTIONS
from berth.workers import rebuild as rebuilds
from berth.workers.projection_runner import ProjectionRunner

CAUSE = Cause(principal="privilege-test", channel="web", request_id="r", correlation_id="c")
ARRIVAL = datetime.now(UTC).date() + timedelta(days=30)


def book(app: Reservations) -> UUID:
    """A pool, and a booking held and confirmed in it."""
    facility = app.catalogue.register_facility(
        name="P1", time_zone="UTC", context=CommandContext(cause=CAUSE)
    )
    pool = app.catalogue.add_pool(
        facility_id=facility.id,
        name="long stay",
        capacity=10,
        nightly_price=1450,
        currency="EUR",
        context=CommandContext(cause=CAUSE),
    )
    stay = Stay(ARRIVAL, ARRIVAL + timedelta(days=2))
    held = app.bookings.hold(
        pool_id=pool.id,
        stay=stay,
        quantity=1,
        guest={"name": "Ann Lee"},
        context=CommandContext(cause=CAUSE),
    )
    app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=CAUSE))
    return held.id


@pytest.fixture
def app(app_db_url: str) -> Iterator[Reservations]:
    reservations = open_reservations(app_db_url)
    yield reservations
    reservations.close()


@pytest.fixture
def booking(app: Reservations) -> UUID:
    return book(app)


def refused(url: str, statement: str) -> psycopg.Error:
    """The error ``statement`` fails with, run as ``url``'s role; nothing is changed."""
    with psycopg.connect(url) as conn, pytest.raises(psycopg.Error) as raised:
        conn.execute(statement.encode())
    return raised.value


def head(url: str) -> tuple[Any, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT position, link, length FROM event_chain_head").fetchone()
    assert row is not None
    return tuple(row)


# -- what the application role can do ---------------------------------------------------


def test_the_application_role_holds_and_confirms_a_booking_and_the_chain_holds(
    app: Reservations, app_db_url: str
):
    booking_id = book(app)

    assert str(app.bookings.booking(booking_id).status) == "confirmed"
    report = audit_chain.verify(app_db_url)
    assert report.ok
    assert report.verified == head(app_db_url)[2] > 5


def test_the_application_role_runs_a_projection_page(
    app: Reservations, app_db_url: str, booking: UUID
):
    runner = ProjectionRunner(app_db_url, PROJECTIONS["bookings"], app.mapper)
    with psycopg.connect(app_db_url) as conn:
        result = runner.apply_page(conn, 0)
        row = conn.execute("SELECT status FROM bookings WHERE booking_id = %s", (booking,))
        status = row.fetchone()

    assert result.events > 0
    assert status == ("confirmed",)


def test_the_application_role_catches_every_projection_up(
    app: Reservations, app_db_url: str, booking: UUID
):
    with psycopg.connect(app_db_url) as conn:
        reached = {
            name: ProjectionRunner(app_db_url, projection, app.mapper).catch_up(conn)
            for name, projection in PROJECTIONS.items()
        }
    assert set(reached.values()) == {head(app_db_url)[0]}


# -- what the application role cannot do ------------------------------------------------

APP_REFUSED = {
    "update an event": "UPDATE berth_events SET topic = topic",
    "delete an event": "DELETE FROM berth_events",
    "truncate the events": "TRUNCATE berth_events",
    "update a snapshot": "UPDATE berth_snapshots SET topic = topic",
    "delete a snapshot": "DELETE FROM berth_snapshots",
    "update a link": "UPDATE event_chain SET link = link",
    "delete a link": "DELETE FROM event_chain",
    "truncate the links": "TRUNCATE event_chain",
    "write a link": "INSERT INTO event_chain SELECT c.position + 1000, c.position,"
    " c.originator_id, c.originator_version, c.link FROM event_chain c"
    " ORDER BY c.position DESC LIMIT 1",
    "update the chain head": "UPDATE event_chain_head SET length = 0",
    "choose an event's position": "INSERT INTO berth_events (originator_id, originator_version,"
    f" topic, state, notification_id) VALUES ('{uuid4()}', 1, 't', '\\x00', 9000000000000)",
    "disable the append-only trigger": "ALTER TABLE berth_events DISABLE TRIGGER"
    " berth_events_append_only",
    "disable the chain trigger": "ALTER TABLE berth_events DISABLE TRIGGER berth_events_chain",
    "drop a trigger": "DROP TRIGGER event_chain_append_only ON event_chain",
    "replace the append-only function": "CREATE OR REPLACE FUNCTION event_store_append_only()"
    " RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'",
    "switch triggers off": "SET session_replication_role = replica",
    "take the events' table lock itself": "LOCK TABLE berth_events IN EXCLUSIVE MODE",
    "alter a read model": "ALTER TABLE bookings ADD COLUMN forged text",
    "drop a read model": "DROP TABLE bookings",
    "truncate a read model": "TRUNCATE bookings",
    "create a table": "CREATE TABLE forged (id int)",
    "become the store's owner": "SET ROLE berth_store",
    "rewrite the migrations record": "DELETE FROM berth_migrations",
    # A forged checkpoint would be where later as-of answers start (issue: checkpoints).
    "add an audit checkpoint": "INSERT INTO audit_ledger_checkpoints"
    " (facility_id, position, rules, latest, state)"
    " VALUES (gen_random_uuid(), 1, 'forged', now(), '\\x00')",
    "rewrite an audit checkpoint": "UPDATE audit_ledger_checkpoints SET state = state",
    "delete an audit checkpoint": "DELETE FROM audit_ledger_checkpoints",
    "rewrite a key change": "UPDATE api_key_changes SET principal = principal",
}


@pytest.mark.parametrize("statement", APP_REFUSED.values(), ids=APP_REFUSED.keys())
def test_the_application_role_cannot(app_db_url: str, db_url: str, booking: UUID, statement: str):
    before = head(db_url)

    error = refused(app_db_url, statement)

    assert isinstance(error, errors.InsufficientPrivilege), error
    assert head(db_url) == before
    assert audit_chain.verify(db_url).ok


def test_a_chain_head_setting_forged_by_the_application_role_is_ignored(
    app_db_url: str, db_url: str, booking: UUID
):
    # Migration 0011's trigger trusted this setting when it named the current
    # transaction: the next event would have been chained after position 0.
    with psycopg.connect(app_db_url) as conn:
        conn.execute(
            "SELECT set_config('berth.event_chain_head',"
            " concat_ws(' ', pg_current_xact_id(), 0, 0, repeat('00', 32)), true)"
        )
        conn.execute(
            "INSERT INTO berth_events (originator_id, originator_version, topic, state)"
            " VALUES (%s, 1, 'forged', '\\x7b7d')",
            (uuid4(),),
        )

    report = audit_chain.verify(db_url)
    assert report.ok, report.broken
    assert report.verified == head(db_url)[2]


# -- what the owner cannot do -----------------------------------------------------------

OWNER_REFUSED = {
    "delete an event": "DELETE FROM berth_events",
    "update an event": "UPDATE berth_events SET topic = topic",
    "truncate the events": "TRUNCATE berth_events",
    "update the chain head": "UPDATE event_chain_head SET length = 0",
    "disable the events' triggers": "ALTER TABLE berth_events DISABLE TRIGGER ALL",
    "disable the links' triggers": "ALTER TABLE event_chain DISABLE TRIGGER ALL",
    "drop the events": "DROP TABLE berth_events CASCADE",
    "rename the events": "ALTER TABLE berth_events RENAME TO old_events",
    "take the events over": "ALTER TABLE berth_events OWNER TO berth_owner",
    "drop the chain function": "DROP FUNCTION event_chain_append() CASCADE",
    "replace the append-only function": "CREATE OR REPLACE FUNCTION event_store_append_only()"
    " RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'",
    "switch triggers off": "SET session_replication_role = replica",
    "become the store's owner": "SET ROLE berth_store",
    "join the store's owner": "GRANT berth_store TO berth_owner",
}


@pytest.mark.parametrize("statement", OWNER_REFUSED.values(), ids=OWNER_REFUSED.keys())
def test_the_owner_cannot_rewrite_history(
    owner_db_url: str, db_url: str, booking: UUID, statement: str
):
    before = head(db_url)

    error = refused(owner_db_url, statement)

    assert isinstance(error, errors.InsufficientPrivilege), error
    assert head(db_url) == before
    assert audit_chain.verify(db_url).ok


def test_the_owner_still_owns_the_read_models(owner_db_url: str, app_db_url: str):
    with psycopg.connect(owner_db_url) as conn:
        conn.execute("ALTER TABLE bookings ADD COLUMN note text")
    with psycopg.connect(app_db_url) as conn:
        conn.execute("SELECT note FROM bookings")


# -- grants for tables of any migration ---------------------------------------------------


def test_a_table_added_by_a_later_migration_gets_the_application_rights(
    owner_db_url: str, app_db_url: str, tmp_path: Path
):
    directory = tmp_path / "migrations"
    shutil.copytree(default_directory(), directory)
    (directory / "0099_later_table.sql").write_text(
        "CREATE TABLE later_things (id bigserial PRIMARY KEY, name text NOT NULL);"
    )

    assert migrate(owner_db_url, directory, app_role=database_roles.APP_ROLE) == ["0099"]

    with psycopg.connect(app_db_url) as conn:
        conn.execute("INSERT INTO later_things (name) VALUES ('a'), ('b')")
        conn.execute("UPDATE later_things SET name = 'c' WHERE name = 'a'")
        conn.execute("DELETE FROM later_things WHERE name = 'b'")
        names = conn.execute("SELECT name FROM later_things").fetchall()
    assert names == [("c",)]
    assert isinstance(refused(app_db_url, "TRUNCATE later_things"), errors.InsufficientPrivilege)
    assert isinstance(
        refused(app_db_url, "ALTER TABLE later_things ADD COLUMN x int"),
        errors.InsufficientPrivilege,
    )


def test_a_rebuild_by_the_owner_keeps_the_application_rights_on_the_swapped_tables(
    app: Reservations, app_db_url: str, owner_db_url: str, db_url: str, booking: UUID
):
    with psycopg.connect(db_url, autocommit=True) as conn:
        database_roles.prepare_database(conn)  # CREATE on the database, for the rebuild schema

    rebuilds.rebuild(owner_db_url, PROJECTIONS["bookings"], event_mapper())

    with psycopg.connect(app_db_url) as conn:
        for table in read_models.TABLES["bookings"]:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
    error = refused(app_db_url, "TRUNCATE bookings")
    assert isinstance(error, errors.InsufficientPrivilege)


# -- roles ------------------------------------------------------------------------------


def test_roles_created_by_racing_sessions_are_created_once_without_error(server_url: str):
    role = f"berth_race_{uuid4().hex[:12]}"
    sessions = 6
    start = threading.Barrier(sessions)
    failures: list[BaseException] = []

    def create() -> None:
        with psycopg.connect(server_url, autocommit=True) as conn:
            start.wait()
            try:
                database_roles.create_role(conn, role, login=False)
            except psycopg.Error as error:
                failures.append(error)

    threads = [threading.Thread(target=create) for _ in range(sessions)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        with psycopg.connect(server_url) as conn:
            row = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,))
            assert row.fetchone() == (1,)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_the_application_role_connects_with_no_superuser_or_role_rights(app_db_url: str):
    with psycopg.connect(app_db_url) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles"
            " WHERE rolname = current_user"
        ).fetchone()
    assert row == (False, False, False, False)
