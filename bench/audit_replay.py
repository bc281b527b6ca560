"""Eight auditors at once ask for a replayed (as-of) trial balance: from zero, from checkpoints.

    .venv/bin/python bench/audit_replay.py [--bookings 3000] [--auditors 8] [--every 5000]

Fills a scratch database `berth_bench_audit` (embedded PostgreSQL, or
BERTH_DATABASE_URL) with bench/ledger.py's season, then sends `--auditors`
concurrent `GET /audit/ledger/trial-balance` requests through the HTTP app
(threads over falcon's TestClient, a pool of connections as under gunicorn),
half cut by position and half by time, spread over the history, in rounds:

- from zero (`from_zero=true`: the baseline, what every replay did before checkpoints),
- none written (checkpoints asked for, none there: the API writes none itself),
- then `berth audit checkpoint --every N` for the facility (timed), and
- cold (each starts from the nearest checkpoint, decoding it from the table),
- warm (each starts from its decoded copy kept in the process).

Prints each round's wall time and per-request median and maximum.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from falcon import testing
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).parent))

from berth.adapters.audit import checkpoint_writer
from berth.adapters.postgres import apikeys
from berth.adapters.postgres.eventstore import open_reservations
from berth.http import Services, Settings, create_app
from common import scratch_database
from ledger import CLOSED_DAYS, START, Clock, fill


def cuts(url: str, facility_id: str, auditors: int) -> list[str]:
    """Cuts spread over the history: by position, and by a time among the closed days."""
    with psycopg.connect(url) as conn:
        head = conn.execute("SELECT max(notification_id) FROM berth_events").fetchone()
    assert head is not None
    base = f"/audit/ledger/trial-balance?facility_id={facility_id}"
    paths = []
    for n in range(auditors):
        if n % 2 == 0:
            paths.append(f"{base}&position={int(head[0]) * (n + 2) // (auditors + 1)}")
        else:
            when = START + timedelta(days=CLOSED_DAYS * n // auditors, hours=21)
            paths.append(f"{base}&as_of={when.isoformat().replace('+', '%2B')}")
    return paths


def round_of(client: testing.TestClient, token: str, paths: list[str]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    failures: list[str] = []

    def auditor(path: str) -> None:
        began = time.perf_counter()
        answer = client.simulate_get(path, headers={"Authorization": f"Bearer {token}"})
        latencies.append(time.perf_counter() - began)
        if answer.status_code != 200:
            failures.append(answer.text[:300])

    threads = [threading.Thread(target=auditor, args=(path,)) for path in paths]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    return time.perf_counter() - began, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=3000)
    parser.add_argument("--auditors", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=checkpoint_writer.EVERY)
    args = parser.parse_args()

    url = scratch_database("berth_bench_audit")
    clock = Clock(START)
    app = open_reservations(url, clock=clock)
    fill(app, clock, args.bookings, random.Random(args.seed))
    pool = ConnectionPool(url, min_size=1, max_size=args.auditors + 2, kwargs={"autocommit": True})
    with pool.connection() as conn:
        _, token = apikeys.create_key(conn, role="auditor", label="bench")
        facility = conn.execute(
            "SELECT originator_id FROM berth_events ORDER BY notification_id LIMIT 1"
        ).fetchone()
        events = conn.execute("SELECT count(*) FROM berth_events").fetchone()
    assert facility is not None and events is not None
    client = testing.TestClient(
        create_app(Settings(), Services(reservations=app, pool=pool, clock=clock))
    )
    paths = cuts(url, str(facility[0]), args.auditors)
    rows = []
    for name, suffix in (("from zero", "&from_zero=true"), ("none written", "")):
        seconds, latencies = round_of(client, token, [p + suffix for p in paths])
        rows.append((name, seconds, statistics.median(latencies), max(latencies)))
    with pool.connection() as conn:
        began = time.perf_counter()
        checkpoint_writer.write(conn, facility[0], every=args.every)
        writing = time.perf_counter() - began
    for name in ("cold", "warm"):
        seconds, latencies = round_of(client, token, paths)
        rows.append((name, seconds, statistics.median(latencies), max(latencies)))
    with pool.connection() as conn:
        stored = conn.execute(
            "SELECT count(*), coalesce(avg(length(state)), 0) FROM audit_ledger_checkpoints"
        ).fetchone()
    pool.close()
    app.close()
    assert stored is not None
    print(
        f"\naudit replay benchmark: {args.bookings:,} bookings, {int(events[0]):,} events,"
        f" {args.auditors} concurrent auditors,"
        f" checkpoints every {args.every:,} positions,"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print("| round | wall s | median s | max s |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds, median, worst in rows:
        print(f"| {name} | {seconds:.2f} | {median:.2f} | {worst:.2f} |")
    print(f"\ncheckpoints: {int(stored[0])}, {float(stored[1]) / 1e3:.0f} kB each (compressed),")
    print(f"written by `berth audit checkpoint` in {writing:.2f} s")


if __name__ == "__main__":
    main()
