"""Webhook delivery: deliveries per second to 10 local receivers while bookings are made,
and the latency from a command's commit to the receiver's receipt (p50/p99).

    .venv/bin/python bench/webhooks.py [--seconds 20] [--clients 4] [--receivers 10]

A scratch database `berth_bench_webhooks` (embedded PostgreSQL, or
BERTH_DATABASE_URL). Each receiver is a threaded HTTP server on loopback that
verifies every signature (tests/webhook_receiver.py), subscribed to the booking event
types. First the baseline: `clients` threads hold and confirm bookings for
`seconds` with no webhooks worker running. Then the same load with `berth worker
webhooks` running as its own process; latency is from the moment `hold` or
`confirm` returned (committed) to the moment the webhook of that event arrived,
at every receiver. After the load, the time to deliver what was left is timed too.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the receiver

import psycopg

from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.webhooks import subscriptions
from berth.domain.cause import Cause
from berth.domain.stay import Stay
from common import scratch_database
from webhook_receiver import Receiver

CAUSE = Cause(principal="bench", channel="bench", request_id="r", correlation_id="c")
DATABASE = "berth_bench_webhooks"
BERTH = Path(sys.executable).with_name("berth")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def load(url: str, *, clients: int, seconds: float) -> dict[tuple[str, str], float]:
    """Hold and confirm bookings for `seconds`; the commit time of each (booking, type)."""
    app = open_reservations(url, env={"POSTGRES_POOL_SIZE": "8", "POSTGRES_MAX_OVERFLOW": "8"})
    try:
        facility = app.register_facility(name="Bench", time_zone="UTC", cause=CAUSE).id
        pool = app.add_pool(
            facility_id=facility, name="Bench pool", capacity=1_000_000, nightly_price=1500,
            currency="EUR", cause=CAUSE,
        ).id  # fmt: skip
        first = datetime.now(UTC).date() + timedelta(days=1)
        committed: dict[tuple[str, str], float] = {}
        issued = itertools.count()
        deadline = time.monotonic() + seconds

        def client(c: int) -> None:
            rng = random.Random(c)
            while time.monotonic() < deadline:
                n = next(issued)
                arrival = first + timedelta(days=rng.randrange(365))
                held = app.hold(
                    pool_id=pool, stay=Stay(arrival, arrival + timedelta(days=1)), quantity=1,
                    guest={"given_name": f"Guest {n}"}, cause=CAUSE,
                )  # fmt: skip
                committed[(str(held.id), "booking.held")] = time.time()
                app.confirm(booking_id=held.id, cause=CAUSE)
                committed[(str(held.id), "booking.confirmed")] = time.time()

        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return committed
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--receivers", type=int, default=10)
    args = parser.parse_args()

    url = scratch_database(DATABASE)
    began = time.monotonic()
    baseline = load(url, clients=args.clients, seconds=args.seconds)
    base_rate = len(baseline) / (time.monotonic() - began)
    print(f"baseline: {len(baseline)} commands, {base_rate:,.0f} commands/s without webhooks")

    receivers = [Receiver() for _ in range(args.receivers)]
    with psycopg.connect(url, autocommit=True) as conn:
        for receiver in receivers:
            _, receiver.secret = subscriptions.create(
                conn, scope=None, channel=None, url=receiver.url, event_types=None,
                description="bench", principal="bench", private_ok=True,
            )  # fmt: skip
    env = dict(os.environ, BERTH_DATABASE_URL=url, BERTH_WEBHOOKS_ALLOW_PRIVATE="1")
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "berth-bench-webhooks.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [str(BERTH), "worker", "webhooks"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        time.sleep(2.0)  # the worker connects and takes its lock
        began = time.monotonic()
        committed = load(url, clients=args.clients, seconds=args.seconds)
        loaded = time.monotonic() - began
        during = sum(len(r.ids()) for r in receivers)
        expected = len(committed) * len(receivers)
        while sum(len(r.ids()) for r in receivers) < expected:
            if time.monotonic() - began > args.seconds + 300:
                raise SystemExit(f"only {sum(len(r.ids()) for r in receivers)} of {expected}")
            print(f"  {sum(len(r.ids()) for r in receivers)} of {expected} delivered", end="\r")
            time.sleep(0.5)
        drained = time.monotonic() - began
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        for receiver in receivers:
            receiver.stop()

    latencies = []
    unverified = 0
    for receiver in receivers:
        for r in receiver.received:
            unverified += not r.verified
            key = (r.body["data"]["id"], r.body["type"])
            if key in committed:
                latencies.append((r.at - committed[key]) * 1000)
    rate = len(committed) / loaded
    print()
    print("| run | commands/s | deliveries | deliveries/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(f"| baseline (no worker) | {base_rate:,.0f} | - | - | - | - |")
    print(
        f"| {args.receivers} receivers, during load | {rate:,.0f} | {during:,} |"
        f" {during / loaded:,.0f} | {percentile(latencies, 50):.0f} |"
        f" {percentile(latencies, 99):.0f} |"
    )
    print(f"| until all delivered | - | {expected:,} | {expected / drained:,.0f} | - | - |")
    print(f"({args.clients} clients, {args.seconds:.0f} s; {unverified} unverified signatures)")


if __name__ == "__main__":
    main()
