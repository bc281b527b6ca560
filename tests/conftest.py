"""Fixtures shared by the whole suite.

Database fixtures are lazy: a test that asks for none of them (every unit test)
never touches PostgreSQL. The server is ``BERTH_TEST_DATABASE_URL`` if set
(CI: ``postgresql://postgres@127.0.0.1:5432/test``), otherwise the embedded one
with its data in ``var/test`` (apart from ``make up``'s ``var/``). Each test
gets its own database, cloned from a template migrated once per session; names
carry the pid, so parallel runs against one server do not clash.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from berth.adapters.database import database_url, with_database
from berth.adapters.migrations import migrate

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
    return database_url({"BERTH_DATA_DIR": str(REPO / "var" / "test")})


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    """Name of a database with every migration applied, cloned by ``db_url``."""
    name = f"berth_template_{os.getpid()}"
    url = _create_database(server_url, name)
    try:
        migrate(url)
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
def empty_db_url(server_url: str) -> Iterator[str]:
    """A fresh database with no migrations applied, dropped afterwards."""
    name = _fresh_name("empty")
    url = _create_database(server_url, name)
    yield url
    _drop_database(server_url, name)
