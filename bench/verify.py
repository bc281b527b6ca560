"""Replay, chain verification and export rates over a store of a million events.

    .venv/bin/python bench/verify.py [--events 1000000]

Runs against the embedded PostgreSQL (or BERTH_DATABASE_URL) in a scratch
database `berth_bench_verify`. It first records a few hundred events with real
commands (facilities, pools, holds, confirmations, cancellations), then copies
them under fresh aggregate ids with INSERT ... SELECT generate_series until the
store holds --events, every row going through the chain trigger. Then, each
over the whole store:
- replay: read in position order over a server-side cursor and decode every
  event with the application's mapper (what a projection rebuild pays first);
- verify: `berth.adapters.audit.audit_chain.verify`, links recomputed in Python;
- export: `berth.adapters.audit.audit_export.export` to /dev/null.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from eventsourcing.persistence import StoredEvent

sys.path.insert(0, str(Path(__file__).parent))

from berth.adapters.audit import audit_chain, audit_export
from berth.adapters.console.progress import progress_bar
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.stay import Stay
from common import scratch_database

CAUSE = Cause(principal="bench", channel="bench", request_id="r", correlation_id="c")
BATCH = 50_000


def record_templates(app: Reservations) -> None:
    """Every kind of event the booking API writes most: holds, confirms, cancels."""
    today = datetime.now(UTC).date()
    for f in range(2):
        facility = app.register_facility(name=f"Lot {f}", time_zone="Europe/Amsterdam", cause=CAUSE)
        pool = app.add_pool(
            facility_id=facility.id,
            name="long stay",
            capacity=500,
            nightly_price=1450,
            currency="EUR",
            cause=CAUSE,
        )
        for n in range(60):
            arrival = today + timedelta(days=10 + n % 20)
            held = app.hold(
                pool_id=pool.id,
                stay=Stay(arrival, arrival + timedelta(days=1 + n % 3)),
                quantity=1,
                guest={"name": f"Guest {n:03d}"},
                plates=[f"AB-{n:03d}-C"],
                cause=CAUSE,
            )
            if n % 3:
                app.confirm(booking_id=held.id, cause=CAUSE)
            if n % 5 == 0:
                app.cancel(booking_id=held.id, cause=CAUSE)


def fill(url: str, events: int) -> tuple[int, float, float]:
    """Copy the recorded events under new ids until the store holds ``events``."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_templates AS SELECT * FROM berth_events")
        row = conn.execute(
            "SELECT count(*), avg(octet_length(state)) FROM bench_templates"
        ).fetchone()
        assert row is not None
        per_copy, state_bytes = int(row[0]), float(row[1])
        copies = max(0, -(-(events - per_copy) // per_copy))
        per_batch = max(1, BATCH // per_copy)
        started = time.perf_counter()
        with progress_bar("filling") as update:
            for first in range(1, copies + 1, per_batch):
                last = min(copies, first + per_batch - 1)
                conn.execute(
                    "INSERT INTO berth_events (originator_id, originator_version, topic, state)"
                    " SELECT md5(g::text || t.originator_id::text)::uuid, t.originator_version,"
                    " t.topic, t.state FROM generate_series(%s::int, %s::int) g"
                    " CROSS JOIN bench_templates t ORDER BY g, t.notification_id",
                    (first, last),
                )
                update(last * per_copy, copies * per_copy)
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_templates")
        conn.execute("VACUUM ANALYZE berth_events")
        conn.execute("VACUUM ANALYZE event_chain")
        return copies * per_copy, seconds, state_bytes


def replay(url: str, app: Reservations) -> int:
    done = 0
    with psycopg.connect(url) as conn, progress_bar("replaying") as update:
        row = conn.execute("SELECT count(*) FROM berth_events").fetchone()
        total = int(row[0]) if row else 0
        with conn.cursor("bench_replay", binary=True) as cursor:
            cursor.itersize = 20_000
            cursor.execute(
                "SELECT originator_id, originator_version, topic, state FROM berth_events"
                " ORDER BY notification_id"
            )
            for originator_id, version, topic, state in cursor:
                app.mapper.to_domain_event(
                    StoredEvent(
                        originator_id=originator_id,
                        originator_version=version,
                        topic=topic,
                        state=state,
                    )
                )
                done += 1
                if done % 20_000 == 0:
                    update(done, total)
        update(done, total)
    return done


def timed(name: str, rows: list[str], run: Callable[[], int]) -> None:
    started = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - started
    rows.append(f"| {name} | {count:,} | {seconds:.1f} | {count / seconds:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()

    url = scratch_database("berth_bench_verify")
    app = open_reservations(url)
    try:
        record_templates(app)
        filled, fill_seconds, state_bytes = fill(url, args.events)
        rows = [
            f"| fill (INSERT ... SELECT through the trigger) | {filled:,} | {fill_seconds:.1f} "
            f"| {filled / fill_seconds:,.0f} |"
        ]
        timed("replay (read + decode with the app's mapper)", rows, lambda: replay(url, app))

        def verify() -> int:
            with progress_bar("verifying") as update:
                report = audit_chain.verify(url, progress=update)
            assert report.ok, report.broken
            return report.verified

        def export() -> int:
            with (
                open(os.devnull, "w", encoding="utf-8") as out,
                progress_bar("exporting") as update,
            ):
                return audit_export.export(url, out, progress=update).lines

        timed("verify (links recomputed in Python)", rows, verify)
        timed("export (JSON Lines to /dev/null)", rows, export)
    finally:
        app.close()
    head = audit_chain.anchor(url)
    print(f"\n{head.events:,} events, mean state {state_bytes:.0f} bytes\n")
    print("| measure | events | seconds | events/s |\n| --- | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
