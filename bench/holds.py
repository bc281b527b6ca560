"""Holds per second on the write side, beside a raw eventsourcing baseline, in one run.

    .venv/bin/python bench/holds.py [--seconds 10]

Runs against the embedded PostgreSQL (or BERTH_DATABASE_URL) in a scratch
database `berth_bench_holds`. Scenarios:
- baseline: one trivial eventsourcing aggregate saved per operation (the raw rate);
- spread: holds of one night on random nights of 20 pools x 365 nights;
- hot night: every hold on the same night of one pool (the worst case).
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventsourcing.domain import Aggregate

sys.path.insert(0, str(Path(__file__).parent))

from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay
from common import HEADER, CpuMeter, run_load, scratch_database

CAUSE = Cause(principal="bench", channel="bench", request_id="r", correlation_id="c")


class Counter(Aggregate):
    """The baseline's aggregate: one event per save, nothing else."""

    def __init__(self, n: int) -> None:
        self.n = n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--only",
        choices=("baseline", "spread", "hot"),
        action="append",
        help="run only these scenarios (repeatable); all three by default",
    )
    args = parser.parse_args()

    url = scratch_database("berth_bench_holds")
    app = open_reservations(url, env={"POSTGRES_POOL_SIZE": "8", "POSTGRES_MAX_OVERFLOW": "8"})
    facility = app.catalogue.register_facility(
        name="Bench", time_zone="UTC", context=CommandContext(cause=CAUSE)
    )
    pools = [
        app.catalogue.add_pool(
            facility_id=facility.id,
            name=f"pool {p}",
            capacity=1_000_000,
            nightly_price=1500,
            currency="EUR",
            context=CommandContext(cause=CAUSE),
        ).id
        for p in range(20)
    ]
    first = datetime.now(UTC).date() + timedelta(days=1)
    rng = random.Random(1)

    def baseline(client: int, n: int) -> None:
        app.save(Counter(n))

    def spread(client: int, n: int) -> None:
        night = first + timedelta(days=rng.randrange(365))
        app.bookings.hold(
            pool_id=rng.choice(pools),
            stay=Stay(night, night + timedelta(days=1)),
            quantity=1,
            guest={"name": "bench"},
            context=CommandContext(cause=CAUSE),
        )

    def hot(client: int, n: int) -> None:
        app.bookings.hold(
            pool_id=pools[0],
            stay=Stay(first, first + timedelta(days=1)),
            quantity=1,
            guest={"name": "bench"},
            context=CommandContext(cause=CAUSE),
        )

    results = []
    cpu = []
    scenarios = {
        "baseline": ("baseline save", baseline),
        "spread": ("hold, spread", spread),
        "hot": ("hold, hot night", hot),
    }
    for key in args.only or list(scenarios):
        name, operation = scenarios[key]
        for clients in (1, 8):
            meter = CpuMeter(url)
            results.append(run_load(name, clients, args.seconds, operation))
            cpu.append(meter.per_operation(results[-1].operations))
    app.close()

    print(
        f"\nholds benchmark, {args.seconds:.0f} s per row, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(HEADER)
    for result in results:
        print(result.row())
    print(
        "\nCPU per operation (ms): this process (Berth and the load clients), and the"
        " database's backends\n\n| scenario | clients | process | backends |"
        "\n| --- | ---: | ---: | ---: |"
    )
    for result, (here, backends) in zip(results, cpu, strict=True):
        print(f"| {result.name} | {result.clients} | {here:.2f} | {backends:.2f} |")


if __name__ == "__main__":
    main()
