"""Quote latency for 7-night stays over 50 pools with seasonal plans, beside /availability.

    .venv/bin/python bench/quotes.py [--seconds 15] [--clients 8]

Starts Berth under gunicorn (as in the Procfile) with its availability worker on
a scratch database; adds 50 pools, each with a seasonal rate plan (three
seasons, weekend prices, a minimum stay, a closed-to-arrival day, sold by the
bench channel) and 20 bookings, and waits for the read model to hold them.
Then, for `GET /quotes` (a 7-night stay under the plan) and a plain
`GET /availability` of the same 7 nights, each over the 50 pools in turn:
first flat out from `--clients` clients (the server's saturation rate), then
paced at half that rate, where the p50 and p99 are read (after 3 s of each to warm up).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from api import BIN, Client, free_port, gunicorn, make_key, start, wait_until_up
from common import HEADER, Result, run_load, scratch_database

POOLS = 50
BOOKINGS_PER_POOL = 20
CHANNEL = "bench"


def plan(first: date) -> dict[str, object]:
    def day(offset: int) -> str:
        return (first + timedelta(days=offset)).isoformat()

    return {
        "code": "seasonal",
        "name": "Seasonal web",
        "base_price": 1000,
        "seasons": [
            {"first_night": day(10), "last_night": day(40), "nightly_price": 1800},
            {"first_night": day(41), "last_night": day(70), "nightly_price": 2400},
            {"first_night": day(120), "last_night": day(130), "nightly_price": 3000},
        ],
        "weekday_prices": {"fri": 1400, "sat": 1500},
        "min_stay": 2,
        "max_stay": 21,
        "closed_to_arrival_weekdays": ["sun"],
        "channels": [CHANNEL],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    url = scratch_database("berth_bench_quotes")
    root = Path(__file__).resolve().parents[1]
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, BERTH_DATABASE_URL=url, BERTH_LOG_LEVEL="WARNING", PATH=path,
               PYTHONPATH=str(root))  # fmt: skip
    port = free_port()
    processes = [
        gunicorn("berth.http.wsgi:app", port, env),
        start([str(BIN / "berth"), "worker", "availability"], env),
    ]
    try:
        wait_until_up(port, "/health")
        results = run(url, port, args)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    print(
        f"\nquotes benchmark, {args.seconds:.0f} s a run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(HEADER)
    for result in results:
        print(result.row())


def run(url: str, port: int, args: argparse.Namespace) -> list[Result]:
    ops = Client(port, make_key(url, "operations"))
    today = datetime.now(UTC).date()
    facility = ops.call("POST", "/facilities", {"name": "Bench", "time_zone": "UTC"})
    booker = Client(port, make_key(url, "booking", CHANNEL))
    pools: list[str] = []
    position = 0
    for n in range(POOLS):
        pool = ops.call("POST", f"/facilities/{facility['id']}/pools", {
            "name": f"pool {n}", "capacity": 500, "nightly_price": 1200,
            "currency": "EUR"})  # fmt: skip
        ops.call("POST", f"/pools/{pool['id']}/rate-plans", plan(today))
        for b in range(BOOKINGS_PER_POOL):
            arrival = today + timedelta(days=1 + (b * 3) % 60)
            held = booker.call("POST", "/bookings", {
                "pool_id": pool["id"], "arrival": arrival.isoformat(),
                "departure": (arrival + timedelta(days=3)).isoformat(),
                "guest": {"name": "Bench"}, "hold_minutes": 24 * 60})  # fmt: skip
            position = max(position, int(str(held["position"])))
        pools.append(str(pool["id"]))
        sys.stderr.write(f"\r  setting up pools: {n + 1}/{POOLS}")
    sys.stderr.write("\n")
    # Wait (boundedly, repeatedly) until the availability read model holds all of it.
    for _ in range(60):
        try:
            booker.call("GET", f"/pools/{pools[-1]}/rate-plans?min_position={position}")
            break
        except RuntimeError:
            continue

    clients = [Client(port, make_key(url, "booking", CHANNEL)) for _ in range(args.clients)]
    # Arrivals on Mondays to Saturdays (Sunday is closed to arrival), across the seasons.
    arrivals = [today + timedelta(days=d) for d in range(1, 140)]
    arrivals = [d for d in arrivals if d.weekday() != 6]

    def stay(n: int) -> tuple[str, date, date]:
        arrival = arrivals[n % len(arrivals)]
        return pools[n % POOLS], arrival, arrival + timedelta(days=7)

    def quote(c: int, n: int) -> None:
        pool, arrival, departure = stay(n * args.clients + c)
        answer = clients[c].call(
            "GET",
            f"/quotes?pool_id={pool}&arrival={arrival}&departure={departure}&rate_plan=seasonal",
        )
        if not answer.get("sellable"):
            raise RuntimeError(f"not sellable: {answer.get('reason')}")

    def availability(c: int, n: int) -> None:
        pool, arrival, departure = stay(n * args.clients + c)
        last = departure - timedelta(days=1)
        clients[c].call("GET", f"/availability?pool_id={pool}&from={arrival}&to={last}")

    for name, operation in (("warm-up quote", quote), ("warm-up availability", availability)):
        run_load(name, args.clients, 3, operation)
    results = []
    for name, operation in (("quote, 7 nights", quote), ("availability, 7 nights", availability)):
        flat = run_load(f"{name}, flat out", args.clients, args.seconds, operation)
        every = args.clients / (flat.rate / 2)  # each client's interval at half the rate
        paced = run_load(
            f"{name}, paced at half ({flat.rate / 2:,.0f}/s)",
            args.clients,
            args.seconds,
            operation,
            every=every,
        )
        results += [flat, paced]
    return results


if __name__ == "__main__":
    main()
