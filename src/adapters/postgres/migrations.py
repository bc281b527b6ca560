"""Numbered SQL migrations: ``migrations/NNNN_name.sql``, applied in order, once each.

Each file runs in its own transaction together with its row in
``berth_migrations``, so a failing file leaves no trace. A session advisory lock
serialises concurrent runs (two releases starting at once); a run applies only
what is missing, and refuses to continue if a file that was applied has changed.
After every run, ``migrations/grants/app_role.sql`` gives the application role
its rights on every table, whichever migration made it (`database_roles`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from berth.adapters.postgres import database, database_roles

MIGRATIONS_DIR_VAR = "BERTH_MIGRATIONS_DIR"

# pg_advisory_lock key taken around every run: the bytes of "berthmig" as a bigint.
ADVISORY_LOCK_KEY = int.from_bytes(b"berthmig", "big", signed=True)

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>\w+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS berth_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    checksum text NOT NULL
)
"""


class MigrationError(Exception):
    """The migrations cannot be applied as they stand."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str
    checksum: str

    @classmethod
    def read(cls, path: Path) -> Migration:
        match = _FILE_NAME.match(path.name)
        if match is None:
            msg = f"migration file name {path.name!r} is not NNNN_name.sql"
            raise MigrationError(msg)
        content = path.read_bytes()
        return cls(
            version=match["version"],
            name=match["name"],
            sql=content.decode("utf-8"),
            checksum=hashlib.sha256(content).hexdigest(),
        )


def default_directory() -> Path:
    """``$BERTH_MIGRATIONS_DIR``, or the repository's top-level ``migrations/``."""
    configured = os.environ.get(MIGRATIONS_DIR_VAR)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "migrations"


def discover(directory: Path) -> list[Migration]:
    """The migrations in ``directory`` (every ``*.sql`` file), in version order."""
    if not directory.is_dir():
        msg = f"migrations directory {directory} does not exist"
        raise MigrationError(msg)
    migrations = sorted(
        (Migration.read(path) for path in directory.glob("*.sql")), key=lambda m: m.version
    )
    for earlier, later in itertools.pairwise(migrations):
        if earlier.version == later.version:
            msg = f"two migrations share version {earlier.version}: {earlier.name}, {later.name}"
            raise MigrationError(msg)
    return migrations


def migrate(url: str, directory: Path | None = None, *, app_role: str | None = None) -> list[str]:
    """Apply the migrations not yet applied to the database at ``url``.

    With ``app_role`` (a role other than the one ``url`` connects as), then grant it
    its rights on everything the connecting role owns; when that role is a superuser,
    also seal the event store (`database_roles.seal_event_store`).
    Returns the versions applied by this call, in order (empty if it was up to date).
    """
    directory = directory or default_directory()
    migrations = discover(directory)
    # The session lock lasts until the connection closes, whatever happens in between.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        conn.execute(_CREATE_TABLE)
        applied: dict[str, str] = {
            version: checksum
            for version, checksum in conn.execute("SELECT version, checksum FROM berth_migrations")
        }
        _check_unchanged(migrations, applied)
        done: list[str] = []
        for migration in migrations:
            if migration.version not in applied:
                _apply(conn, migration)
                done.append(migration.version)
        if app_role is not None:
            _grant(conn, app_role, directory)
        return done


def _grant(conn: psycopg.Connection[tuple[object, ...]], app_role: str, directory: Path) -> None:
    row = conn.execute("SELECT current_user").fetchone()
    if row is None or row[0] == app_role:
        return  # one role for everything: nothing to grant
    try:
        if database_roles.is_superuser(conn):
            database_roles.seal_event_store(
                conn, app_role=app_role, owner=str(row[0]), migrations_dir=directory
            )
        else:
            database_roles.apply_grants(conn, app_role=app_role, migrations_dir=directory)
    except psycopg.Error as error:
        msg = f"granting the application role {app_role} its rights failed: {error}"
        raise MigrationError(msg) from error


def _check_unchanged(migrations: list[Migration], applied: dict[str, str]) -> None:
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            msg = (
                f"migration {migration.version}_{migration.name} has changed since it was "
                f"applied (checksum {recorded[:12]}… now {migration.checksum[:12]}…); "
                "add a new migration instead of editing an applied one"
            )
            raise MigrationError(msg)


def _apply(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> None:
    try:
        with conn.transaction():
            # No parameters: psycopg sends the file as one simple query, so it may
            # hold several statements.
            conn.execute(migration.sql.encode("utf-8"))
            conn.execute(
                "INSERT INTO berth_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.Error as error:
        msg = f"migration {migration.version}_{migration.name} failed: {error}"
        raise MigrationError(msg) from error


def migrate_deployment(environ: Mapping[str, str] = os.environ) -> list[str]:
    """What `berth migrate` does: migrate as the owner, grant the application role.

    On the embedded server (no ``BERTH_DATABASE_URL``) Berth has the superuser at
    hand, and seals the event store with it after every run.
    """
    app_role = database_roles.current_role(database.database_url(environ))
    applied = migrate(database.migrate_database_url(environ), app_role=app_role)
    if database.is_embedded(environ):
        with psycopg.connect(database.embedded_superuser_url(environ), autocommit=True) as conn:
            # Under the migrations' lock: two concurrent GRANTs on one table can fail.
            conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
            database_roles.seal_event_store(
                conn,
                app_role=app_role,
                owner=database_roles.OWNER_ROLE,
                migrations_dir=default_directory(),
            )
    return applied
