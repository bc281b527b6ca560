from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from berth.adapters.postgres.database import eventsourcing_environment
from berth.adapters.postgres.migrations import MigrationError, default_directory, discover, migrate


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query.encode()).fetchall()


def recorded(url: str) -> list[tuple[Any, ...]]:
    return rows(url, "SELECT version, name FROM berth_migrations ORDER BY applied_at, version")


THREE = {
    # Written out of order: the order comes from the version, not the directory listing.
    "0003_add_index.sql": "CREATE INDEX things_label ON things (label);",
    "0001_create_things.sql": "CREATE TABLE things (id int PRIMARY KEY);",
    "0002_add_label.sql": "ALTER TABLE things ADD COLUMN label text;",
}


def test_applies_every_migration_in_order_and_records_each(empty_db_url: str, tmp_path: Path):
    applied = migrate(empty_db_url, write(tmp_path / "m", THREE))

    assert applied == ["0001", "0002", "0003"]
    assert recorded(empty_db_url) == [
        ("0001", "create_things"),
        ("0002", "add_label"),
        ("0003", "add_index"),
    ]
    assert rows(empty_db_url, "SELECT indexname FROM pg_indexes WHERE indexname = 'things_label'")


def test_running_twice_applies_nothing_the_second_time(empty_db_url: str, tmp_path: Path):
    directory = write(tmp_path / "m", THREE)
    migrate(empty_db_url, directory)

    assert migrate(empty_db_url, directory) == []
    assert len(recorded(empty_db_url)) == 3


def test_a_new_migration_is_applied_on_top_of_those_already_applied(
    empty_db_url: str, tmp_path: Path
):
    directory = write(tmp_path / "m", THREE)
    migrate(empty_db_url, directory)
    write(directory, {"0004_add_size.sql": "ALTER TABLE things ADD COLUMN size int;"})

    assert migrate(empty_db_url, directory) == ["0004"]


def test_processes_migrating_at_once_apply_each_migration_exactly_once(
    empty_db_url: str, tmp_path: Path
):
    # Slow, and failing if run twice (no IF NOT EXISTS): any overlap would show.
    directory = write(
        tmp_path / "m",
        {
            "0001_slow.sql": "SELECT pg_sleep(0.2); CREATE TABLE slow (id int);",
            "0002_counted.sql": "CREATE TABLE counted (id int); INSERT INTO counted VALUES (1);",
        },
    )
    start = threading.Barrier(4)

    def run() -> list[str]:
        start.wait()
        return migrate(empty_db_url, directory)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [future.result() for future in [pool.submit(run) for _ in range(4)]]

    assert sorted(results) == [[], [], [], ["0001", "0002"]]
    assert len(recorded(empty_db_url)) == 2
    assert rows(empty_db_url, "SELECT count(*) FROM counted") == [(1,)]


def test_a_migration_changed_after_it_was_applied_is_refused(empty_db_url: str, tmp_path: Path):
    directory = write(tmp_path / "m", THREE)
    migrate(empty_db_url, directory)
    write(
        directory,
        {
            "0002_add_label.sql": "ALTER TABLE things ADD COLUMN label varchar(10);",
            "0004_add_size.sql": "ALTER TABLE things ADD COLUMN size int;",
        },
    )

    with pytest.raises(MigrationError, match="0002_add_label has changed"):
        migrate(empty_db_url, directory)
    assert len(recorded(empty_db_url)) == 3  # and 0004 was not applied either


def test_a_failing_migration_rolls_back_entirely_and_records_nothing(
    empty_db_url: str, tmp_path: Path
):
    directory = write(
        tmp_path / "m",
        {
            "0001_create_things.sql": "CREATE TABLE things (id int PRIMARY KEY);",
            "0002_broken.sql": (
                "CREATE TABLE half (id int); INSERT INTO things VALUES (1); SELECT 1 / 0;"
            ),
            "0003_never_reached.sql": "CREATE TABLE never (id int);",
        },
    )

    with pytest.raises(MigrationError, match="0002_broken failed: division by zero"):
        migrate(empty_db_url, directory)

    assert recorded(empty_db_url) == [("0001", "create_things")]
    assert rows(empty_db_url, "SELECT to_regclass('half'), to_regclass('never')") == [(None, None)]
    assert rows(empty_db_url, "SELECT count(*) FROM things") == [(0,)]

    write(directory, {"0002_broken.sql": "CREATE TABLE half (id int);"})
    assert migrate(empty_db_url, directory) == ["0002", "0003"]


def test_the_template_database_has_every_repository_migration(db_url: str):
    versions = [migration.version for migration in discover(default_directory())]

    assert versions
    assert [version for version, _ in recorded(db_url)] == versions
    assert migrate(db_url) == []


# The event store as seen in the catalogue: columns, indexes, table options, composite types.
EVENT_STORE = "('berth_events', 'berth_snapshots')"
CATALOGUE = {
    "columns": f"""
        SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name IN {EVENT_STORE}
        ORDER BY 1, 2""",
    "indexes": f"""
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename IN {EVENT_STORE} ORDER BY 1, 2""",
    "options": f"""
        SELECT relname, reloptions FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relname IN {EVENT_STORE}
        ORDER BY 1""",
    "types": """
        SELECT t.typname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_type t JOIN pg_attribute a ON a.attrelid = t.typrelid
        WHERE t.typnamespace = 'public'::regnamespace AND t.typname LIKE 'stored\\_event\\_%'
        ORDER BY 1, a.attnum""",
}


class Ship(Aggregate):
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


class Berth(Application[Any]):
    """Named like the real application, so it uses the berth_* tables."""


def test_the_event_store_migration_matches_what_eventsourcing_creates(
    db_url: str, empty_db_url: str
):
    library = Berth(
        env=eventsourcing_environment(empty_db_url)
        | {"CREATE_TABLE": "y", "IS_SNAPSHOTTING_ENABLED": "y"}
    )
    library.close()

    for query in CATALOGUE.values():
        assert rows(empty_db_url, query)
        assert rows(db_url, query) == rows(empty_db_url, query)


def test_an_application_without_create_table_saves_and_reads_back(db_url: str):
    app = Berth(env=eventsourcing_environment(db_url) | {"IS_SNAPSHOTTING_ENABLED": "y"})
    try:
        ship = Ship("Aurora")
        ship.rename("Borealis")
        recordings = app.save(ship)

        assert app.repository.get(ship.id).name == "Borealis"
        notifications = app.notification_log.select(start=1, limit=10)
        assert [n.originator_version for n in notifications] == [1, 2]
        assert recordings[-1].notification.id == notifications[-1].id

        app.take_snapshot(ship.id)
        assert app.snapshots is not None
        assert [s.originator_version for s in app.snapshots.get(ship.id)] == [2]
        assert app.repository.get(ship.id).version == 2
    finally:
        app.close()

    assert rows(db_url, "SELECT count(*) FROM berth_events") == [(2,)]
    assert rows(db_url, "SELECT count(*) FROM berth_snapshots") == [(1,)]
    # The library's insert function is not needed (db functions stay off).
    assert rows(db_url, "SELECT to_regprocedure('es_insert_events_uuid(stored_event_uuid[])')") == [
        (None,)
    ]
