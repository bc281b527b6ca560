"""Fixtures shared by the whole suite.

Database fixtures are lazy: a test that asks for none of them (every unit test)
never touches PostgreSQL. The server is ``BERTH_TEST_DATABASE_URL`` if set
(CI: ``postgresql://postgres@127.0.0.1:5432/test``), otherwise the embedded one
with its data in ``var/test`` (apart from ``make up``'s ``var/``). Each test
gets its own database, cloned from a template migrated once per session; names
carry the pid, so parallel runs against one server do not clash.

The template is migrated as Berth is deployed: as the owner role, granting the
application role its rights, then sealed by the superuser (``berth_owner``,
``berth_app``, ``berth_store``; roles are global to the server, so they are
created, idempotently, by every session). Tests connect as the superuser unless
they ask for ``app_db_url`` or ``owner_db_url``.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from berth import logs
from berth.adapters.postgres import database_roles
from berth.adapters.postgres.database import embedded_superuser_url, with_database, with_user
from berth.adapters.postgres.migrations import default_directory, migrate
from berth.config import load

REPO = Path(__file__).resolve().parents[1]
INTEGRATION = REPO / "tests" / "integration"
_names = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs a real PostgreSQL server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything under tests/integration/, so ``-m 'not integration'`` works."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


def _create_database(server: str, name: str, *, template: str | None = None) -> str:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(statement)
    return with_database(server, name)


def _drop_database(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _fresh_name(kind: str) -> str:
    return f"berth_{kind}_{os.getpid()}_{next(_names)}"


@pytest.fixture(scope="session")
def server_url() -> str:
    """A PostgreSQL server the tests may create and drop databases on."""
    configured = os.environ.get("BERTH_TEST_DATABASE_URL")
    if configured:
        return configured
    return embedded_superuser_url(
        load({"BERTH_DATA_DIR": str(REPO / "var" / "test"), "BERTH_EMBEDDED": "1"})
    )


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    """Name of a database with every migration applied, cloned by ``db_url``."""
    name = f"berth_template_{os.getpid()}"
    url = _create_database(server_url, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            database_roles.ensure_roles(conn)
            database_roles.prepare_database(conn)
        migrate(with_user(url, database_roles.OWNER_ROLE), app_role=database_roles.APP_ROLE)
        with psycopg.connect(url, autocommit=True) as conn:
            database_roles.seal_event_store(
                conn,
                app_role=database_roles.APP_ROLE,
                owner=database_roles.OWNER_ROLE,
                migrations_dir=default_directory(),
            )
        yield name
    finally:
        _drop_database(server_url, name)


@pytest.fixture
def db_url(server_url: str, template_database: str) -> Iterator[str]:
    """A fresh, fully migrated database for one test, dropped afterwards."""
    name = _fresh_name("test")
    url = _create_database(server_url, name, template=template_database)
    yield url
    _drop_database(server_url, name)


@pytest.fixture
def app_db_url(db_url: str) -> str:
    """``db_url`` as the application role (``BERTH_DATABASE_URL`` in production)."""
    return with_user(db_url, database_roles.APP_ROLE)


@pytest.fixture
def owner_db_url(db_url: str) -> str:
    """``db_url`` as the owner that ran the migrations (``BERTH_MIGRATE_DATABASE_URL``)."""
    return with_user(db_url, database_roles.OWNER_ROLE)


@pytest.fixture
def empty_db_url(server_url: str) -> Iterator[str]:
    """A fresh database with no migrations applied, dropped afterwards."""
    name = _fresh_name("empty")
    url = _create_database(server_url, name)
    yield url
    _drop_database(server_url, name)


@pytest.fixture(autouse=True)
def _berth_log_handler_removed_after_each_test() -> Iterator[None]:
    """A test that runs the CLI in-process installs Berth's stderr handler on the root
    logger (`berth.logs.setup`); it goes with the test, so later tests' worker threads
    do not print their lines into the run's output."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs._Handler)]:
        root.removeHandler(handler)
