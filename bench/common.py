"""Shared helpers for Berth's benchmarks: a scratch database and a timed load loop."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from berth.adapters.postgres.database import database_url, with_database
from berth.adapters.postgres.migrations import migrate
from berth.config import load


def server_url() -> str:
    """Berth's server: BERTH_DATABASE_URL's, else the embedded one (started if needed)."""
    return database_url(dataclasses.replace(load(), embedded=True))


def scratch_database(name: str, *, keep: bool = False) -> str:
    """A freshly migrated database on Berth's server (embedded unless BERTH_DATABASE_URL).

    Named after this process too, so that two benchmarks run at once on one server
    never drop each other's, and dropped again when the benchmark exits; unless
    `keep` (a fill a later run reuses): then it is `name` itself, and stays.
    """
    server = server_url()
    if not keep:
        name = f"{name}_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    if not keep:
        atexit.register(_drop, server, drop)
    url = with_database(server, name)
    migrate(url)
    return url


def _drop(server: str, drop: sql.Composed) -> None:
    with contextlib.suppress(psycopg.Error), psycopg.connect(server, autocommit=True) as conn:
        conn.execute(drop)


@dataclass
class Result:
    name: str
    clients: int
    operations: int
    failures: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.operations / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def row(self) -> str:
        return (
            f"| {self.name} | {self.clients} | {self.rate:,.0f} | {self.percentile(50):.1f} | "
            f"{self.percentile(99):.1f} | {self.failures} |"
        )


HEADER = (
    "| scenario | clients | ops/s | p50 ms | p99 ms | failures |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: |"
)


def run_load(
    name: str,
    clients: int,
    seconds: float,
    operation: Callable[[int, int], None],
    *,
    every: float | None = None,
) -> Result:
    """Call operation(client, n) from `clients` threads for `seconds`, showing progress.

    Each client calls again as soon as the last call returns (a closed loop, the
    server's saturation point), or, with `every`, starts one call per `every`
    seconds (a paced load, as real devices send).
    """
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    stop = threading.Event()

    def client(c: int) -> None:
        n = 0
        # Paced clients start spread over one interval, as independent devices would,
        # not all at once in lockstep.
        next_start = time.perf_counter() + (every * c / clients if every else 0.0)
        while not stop.is_set():
            if every is not None:
                time.sleep(max(next_start - time.perf_counter(), 0))
                next_start += every
            started = time.perf_counter()
            try:
                operation(c, n)
            except Exception:
                failures[c] += 1
            else:
                latencies[c].append(time.perf_counter() - started)
            n += 1

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    while (elapsed := time.perf_counter() - began) < seconds:
        time.sleep(min(1.0, seconds - elapsed))
        done = sum(len(x) for x in latencies)
        sys.stderr.write(
            f"\r  {name} x{clients}: {elapsed:4.0f}/{seconds:.0f}s  {done:,} ops"
            f"  {done / max(elapsed, 1e-9):,.0f}/s   "
        )
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    sys.stderr.write("\n")
    flat = [x for per_client in latencies for x in per_client]
    return Result(name, clients, len(flat), sum(failures), elapsed, flat)


class CpuMeter:
    """CPU time per operation: this process's, and the database server's backends'.

    A rate on a shared machine moves with whatever else runs; the CPU an operation
    costs moves much less, so it is the figure to compare runs by. The backends'
    share is read from /proc (the server must run on this machine; else it is nan)
    for the backends connected to `url`'s database, so other databases' work on the
    same server is not counted.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.here = time.process_time()
        self.backends = backend_cpu(url)

    def per_operation(self, operations: int) -> tuple[float, float]:
        """Milliseconds of CPU per operation since the meter started: here, and the backends'."""
        here = time.process_time() - self.here
        now, before = backend_cpu(self.url), self.backends
        if now is None or before is None:
            backends = float("nan")
        else:
            backends = sum(used - before.get(pid, 0.0) for pid, used in now.items())
        count = max(operations, 1)
        return here / count * 1000, backends / count * 1000


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of one process so far (None if it is gone or not ours)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def backend_cpu(url: str) -> dict[int, float] | None:
    """CPU seconds of each backend connected to `url`'s database (None: not a local server)."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    used: dict[int, float] = {}
    for pid in pids:
        seconds = _cpu_seconds(pid)
        if seconds is None:
            return None
        used[pid] = seconds
    return used


def _tree(pids: list[int]) -> list[int]:
    """These processes and their children (a gunicorn master and its workers)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except OSError:
                continue
            if parent in pids:
                children.append(int(entry))
    return [*pids, *children]


class CpuBudget:
    """Where the CPU of a phase went, per operation, by process group.

    `groups` names the processes that serve the phase (a gunicorn master, counted
    with its workers; the projection workers); the backends connected to `url`'s
    database and this process (the load clients) are added as groups of their own.
    On a machine whose cores are all busy, a rate is bounded by the sum of these:
    an operation that costs twice the CPU runs at half the rate.
    """

    def __init__(self, url: str, groups: dict[str, list[int]]) -> None:
        self.url = url
        self.groups = {name: _tree(pids) for name, pids in groups.items()}
        self.before = self._processes()
        self.backends = backend_cpu(url)

    def _processes(self) -> dict[str, float]:
        used = {
            name: sum(_cpu_seconds(pid) or 0.0 for pid in pids)
            for name, pids in self.groups.items()
        }
        used["load clients (this process)"] = time.process_time()
        return used

    def per_operation(self, operations: int) -> dict[str, float]:
        """Milliseconds of CPU per operation since the meter started, by group."""
        now, backends = self._processes(), backend_cpu(self.url)
        spent = {name: now[name] - self.before[name] for name in now}
        spent["PostgreSQL backends"] = (
            sum(used - self.backends.get(pid, 0.0) for pid, used in backends.items())
            if backends is not None and self.backends is not None
            else float("nan")
        )  # per backend: one that connected meanwhile counts from zero
        count = max(operations, 1)
        return {name: seconds / count * 1000 for name, seconds in spent.items()}


def median(values: list[float]) -> float:
    return statistics.median(values)
