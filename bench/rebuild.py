"""Time to rebuild each projection from position zero and swap it in, and to check it.

    .venv/bin/python bench/rebuild.py [--bookings 40000] [--page-size 5000]

Fills a scratch database `berth_bench_rebuild` (embedded PostgreSQL, or
BERTH_DATABASE_URL) with bench/ledger.py's season of bookings (held, mostly
confirmed and paid, some amended, cancelled and refunded; closed days), brings
every live projection up to date, then for each projection runs what
`berth rebuild NAME` runs (fresh tables aside, replay, swap) and what
`berth rebuild NAME --check` runs (replay aside, compare every row), and prints
a markdown table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))

import ledger as season  # bench/ledger.py: its fill
from berth.adapters.console import progress
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models.tables import TABLES
from berth.workers import PROJECTIONS, rebuild
from berth.workers.projection_runner import ProjectionRunner
from common import scratch_database


def count_rows(url: str, name: str) -> int:
    """Rows in the projection's tables."""
    with psycopg.connect(url) as conn:
        counts = [
            conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone()
            for table in TABLES[name]
        ]
    return sum(int(row[0]) for row in counts if row is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=40_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    url = scratch_database("berth_bench_rebuild")
    clock = season.Clock(season.START)
    app = open_reservations(url, clock=clock)
    season.fill(app, clock, args.bookings, random.Random(args.seed))
    booking_events, events = season.count_events(url, PROJECTIONS["bookings"].topics)
    with psycopg.connect(url) as conn:
        for name, projection in PROJECTIONS.items():
            sys.stderr.write(f"  {name}: live catch-up\n")
            ProjectionRunner(url, projection, app.mapper, page_size=args.page_size).catch_up(conn)

    rows = []
    for name in sorted(PROJECTIONS):
        projection = PROJECTIONS[name]
        relevant, _ = season.count_events(url, projection.topics)
        with progress.progress_bar(f"rebuilding {name}", unit="notifications") as update:
            rebuilt = rebuild.rebuild(
                url, projection, app.mapper, page_size=args.page_size, progress=update
            )
        began = time.perf_counter()
        with progress.progress_bar(f"checking {name}", unit="notifications") as update:
            checked = rebuild.check(
                url, projection, app.mapper, page_size=args.page_size, progress=update
            )
        check_seconds = time.perf_counter() - began
        assert checked.same, checked.summary()
        rows.append((name, relevant, count_rows(url, name), rebuilt.seconds, check_seconds))
    app.close()

    print(
        f"\nrebuild benchmark: {args.bookings:,} bookings, {booking_events:,} booking events,"
        f" {events:,} events in all, pages of {args.page_size:,},"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print("| projection | its events | rows | rebuild and swap, s | notifications/s | check, s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, relevant, live_rows, seconds, check_seconds in rows:
        print(
            f"| {name} | {relevant:,} | {live_rows:,} | {seconds:.1f} | {events / seconds:,.0f}"
            f" | {check_seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
