from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from berth.adapters.postgres.database import (
    database_url,
    eventsourcing_environment,
    migrate_database_url,
    with_database,
    with_user,
)
from berth.adapters.postgres.migrations import MigrationError, discover


def test_a_configured_database_url_is_used_as_it_is():
    url = "postgresql://berth:secret@db.example:6432/berth"

    assert database_url({"BERTH_DATABASE_URL": url}) == url


def test_a_tcp_url_becomes_the_eventsourcing_postgres_settings():
    env = eventsourcing_environment("postgresql://berth:s%40cret@db.example:6432/store")

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (
        env["POSTGRES_DBNAME"],
        env["POSTGRES_HOST"],
        env["POSTGRES_PORT"],
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
    ) == ("store", "db.example", "6432", "berth", "s@cret")


def test_a_socket_directory_url_becomes_the_host():
    env = eventsourcing_environment("postgresql://postgres:@/postgres?host=/srv/berth/var/pgdata")

    assert env["POSTGRES_HOST"] == "/srv/berth/var/pgdata"
    assert env["POSTGRES_DBNAME"] == "postgres"
    assert env["POSTGRES_PORT"] == ""  # libpq's default applies
    assert env["POSTGRES_PASSWORD"] == ""


def test_migrations_own_the_tables_and_db_functions_stay_off():
    env = eventsourcing_environment("postgresql://postgres@127.0.0.1/test")

    assert env["CREATE_TABLE"] == "n"
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in env
    assert int(env["POSTGRES_LOCK_TIMEOUT"]) > 0
    assert int(env["POSTGRES_POOL_SIZE"]) >= 1


def test_a_url_parameter_eventsourcing_cannot_pass_on_is_refused():
    with pytest.raises(ValueError, match="sslmode"):
        eventsourcing_environment("postgresql://postgres@db.example/berth?sslmode=require")


def test_with_database_keeps_server_and_credentials():
    url = with_database("postgresql://postgres:pw@/postgres?host=/tmp/pg", "berth_x")

    env = eventsourcing_environment(url)
    assert (env["POSTGRES_DBNAME"], env["POSTGRES_HOST"], env["POSTGRES_PASSWORD"]) == (
        "berth_x",
        "/tmp/pg",
        "pw",
    )


def test_migration_files_are_ordered_by_version(tmp_path: Path):
    for name in ["0002_b.sql", "0010_c.sql", "0001_a.sql"]:
        (tmp_path / name).write_text("SELECT 1;")

    assert [m.version for m in discover(tmp_path)] == ["0001", "0002", "0010"]


@pytest.mark.parametrize("name", ["1_short.sql", "0001-dash.sql", "0001_.sql", "00001_x.sql"])
def test_a_badly_named_migration_file_is_refused(tmp_path: Path, name: str):
    (tmp_path / name).write_text("SELECT 1;")

    with pytest.raises(MigrationError, match=r"is not NNNN_name\.sql"):
        discover(tmp_path)


def test_two_migrations_with_one_version_are_refused(tmp_path: Path):
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")

    with pytest.raises(MigrationError, match="share version 0001"):
        discover(tmp_path)


def test_migrations_run_as_the_migrate_url_when_it_is_set():

    app = "postgresql://berth_app@db.example/berth"
    owner = "postgresql://berth_owner:secret@db.example/berth"

    assert migrate_database_url({"BERTH_DATABASE_URL": app}) == app
    assert (
        migrate_database_url({"BERTH_DATABASE_URL": app, "BERTH_MIGRATE_DATABASE_URL": owner})
        == owner
    )
    assert database_url({"BERTH_DATABASE_URL": app, "BERTH_MIGRATE_DATABASE_URL": owner}) == app


def test_a_url_as_another_role_keeps_the_server_and_drops_the_password():

    url = with_user("postgresql://postgres:pw@127.0.0.1:5433/berth", "berth_app")

    assert conninfo_to_dict(url) == {
        "user": "berth_app",
        "host": "127.0.0.1",
        "port": "5433",
        "dbname": "berth",
    }
