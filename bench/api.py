"""The booking API under load through gunicorn, beside a raw baseline, in one run.

    .venv/bin/python bench/api.py [--seconds 20] [--clients 8]

Starts, on free loopback ports, gunicorn serving Berth (as in the Procfile:
2 workers x 4 threads) with its availability and bookings projection workers,
and gunicorn serving bench/baseline_app.py (one eventsourcing aggregate saved
per POST, same settings). Then, for each, `--clients` keep-alive clients for
`--seconds`:

- baseline: POST /save;
- berth: POST /bookings (a hold of 1-3 nights on a random night of 20 pools x
  365 nights) then POST /bookings/{id}/confirm, while 2 more clients query
  GET /availability for a week (20 a second each, so that the command rate does
  not depend on how cheap a query is), and a listener times each command's
  position reaching the availability projection (projection lag, from the
  runner's NOTIFY); first flat out, then paced at half that rate.

Each phase also prints the CPU each request cost, by process (gunicorn, the
PostgreSQL backends, the projection workers, the load clients), read from /proc:
on 2 busy cores, their sum is what bounds a rate.

Then a trace: a second pair of the same servers reaches PostgreSQL through a
wire proxy (bench/wire_trace.py) that counts round trips; one client sends
holds, confirms and /availability queries (and baseline saves) one at a time, and
the database round trips of each request are printed by kind (night lock, aggregate read, save...).

Everything runs on this machine, clients included, so the figures are what
2 shared cores give.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from berth.adapters.postgres import apikeys
from berth.adapters.postgres.event_wakeups import POSITIONS_CHANNEL
from common import HEADER, CpuBudget, Result, run_load, scratch_database
from wire_trace import Counts, WireTrace

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(f"/tmp/cmdspeed_srv_{args[-1]}.log", "ab"),
    )


def gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return start(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--keep-alive", "30", app],
        env,
    )  # fmt: skip


def wait_until_up(port: int, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


class Client:
    """A keep-alive HTTP client for one thread."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: object | None = None) -> dict[str, object]:
        payload = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return json.loads(data) if data else {}


def make_key(url: str, role: str, scope: str = "") -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        return apikeys.create_key(conn, role=role, scope=scope, label="bench")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    url = scratch_database("berth_bench_api")
    env = dict(os.environ, BERTH_DATABASE_URL=url, BERTH_LOG_LEVEL="WARNING",
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT))  # fmt: skip
    berth_port, baseline_port = free_port(), free_port()
    trace = WireTrace(url)
    traced_env = dict(env, BERTH_DATABASE_URL=trace.url, **trace.environ)
    traced_berth, traced_baseline = free_port(), free_port()
    processes = [
        gunicorn("berth.http.wsgi:app", berth_port, env),
        gunicorn("bench.baseline_app:app", baseline_port, env),
        gunicorn("berth.http.wsgi:app", traced_berth, traced_env),
        gunicorn("bench.baseline_app:app", traced_baseline, traced_env),
        start([str(BIN / "berth"), "worker", "availability"], env),
        start([str(BIN / "berth"), "worker", "bookings"], env),
    ]
    try:
        wait_until_up(berth_port, "/health")
        wait_until_up(baseline_port, "/")
        wait_until_up(traced_berth, "/health")
        wait_until_up(traced_baseline, "/")
        serving = {
            "berth": {"gunicorn": [processes[0].pid]},
            "baseline": {"gunicorn": [processes[1].pid]},
        }
        workers = [process.pid for process in processes[4:]]
        for groups in serving.values():
            groups["projection workers"] = workers
        results, pools, budgets, runners = run(url, berth_port, baseline_port, args, serving)
        traces = trace_commands(url, pools, trace, traced_berth, traced_baseline)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)

    print(
        f"\nAPI benchmark, {args.seconds:.0f} s per row, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(HEADER)
    for result in results:
        print(result.row())
    print("\nCPU per request (ms), by process, from /proc; Berth's phases include their")
    print("/availability readers (40 queries/s) and count a hold and a confirm as two requests\n")
    groups = list(next(iter(budgets.values())))
    print(f"| phase | {' | '.join(groups)} | total |")
    print(f"| --- |{' ---: |' * (len(groups) + 1)}")
    for phase_name, budget in budgets.items():
        cells = " | ".join(f"{budget[group]:.2f}" for group in groups)
        print(f"| {phase_name} | {cells} | {sum(budget.values()):.2f} |")
    print("\nPages the projection runners committed (from their NOTIFYs): pages/s, and")
    print("notifications per page (positions advanced per page)\n")
    for phase_name, paged in runners.items():
        cells = ", ".join(
            f"{name} {rate:.0f}/s, {per:.1f} per page" for name, (rate, per) in paged.items()
        )
        print(f"- {phase_name}: {cells}")
    print("\ndatabase round trips per request (one client, one request at a time)\n")
    print("| request | round trips | statements | round trips by first statement |")
    print("| --- | ---: | ---: | --- |")
    for name, (count, counts) in traces.items():
        kinds = ", ".join(f"{kind} {n / count:.1f}" for kind, n in counts.round_trips.most_common())
        print(
            f"| {name} | {counts.round_trips.total() / count:.1f} |"
            f" {counts.statements.total() / count:.1f} | {kinds} |"
        )


LAG_HISTORY = 100_000  # the positions notified that the sampler keeps
TRACED = 200  # requests of each kind traced, after as many to warm the caches


def trace_commands(
    url: str, pools: list[str], trace: WireTrace, berth_port: int, baseline_port: int
) -> dict[str, tuple[int, Counts]]:
    """The round trips of each request, sent one at a time through the wire proxy."""
    client = Client(berth_port, make_key(url, "booking", "bench-site"))
    baseline = Client(baseline_port)
    first = datetime.now(UTC).date() + timedelta(days=1)
    rng = random.Random(7)
    totals = {
        "hold (POST /bookings)": Counts(),
        "confirm": Counts(),
        "GET /availability (a week)": Counts(),
        "baseline save": Counts(),
    }
    hold, confirm, query, save = totals

    def measured(
        name: str, via: Client, path: str, body: object | None, keep: bool
    ) -> dict[str, object]:
        before = trace.snapshot()
        answer = via.call("GET" if body is None else "POST", path, body)
        if keep:
            totals[name] += trace.snapshot() - before
        return answer

    for n in range(2 * TRACED):
        sys.stderr.write(f"\r  trace: {n + 1}/{2 * TRACED} hold + confirm + query + save   ")
        keep = n >= TRACED
        night = first + timedelta(days=rng.randrange(365))
        held = measured(hold, client, "/bookings", {
            "pool_id": rng.choice(pools), "arrival": night.isoformat(),
            "departure": (night + timedelta(days=rng.randint(1, 3))).isoformat(),
            "guest": {"name": "Bench Guest"}, "plates": ["BE-NCH-1"],
        }, keep)  # fmt: skip
        measured(confirm, client, f"/bookings/{held['id']}/confirm", {}, keep)
        week = f"from={night}&to={night + timedelta(days=6)}"
        measured(query, client, f"/availability?pool_id={rng.choice(pools)}&{week}", None, keep)
        measured(save, baseline, "/save", {"n": n}, keep)
    sys.stderr.write("\n")
    return {name: (TRACED, counts) for name, counts in totals.items()}


def run(
    url: str,
    berth_port: int,
    baseline_port: int,
    args: argparse.Namespace,
    serving: dict[str, dict[str, list[int]]],
) -> tuple[
    list[Result], list[str], dict[str, dict[str, float]], dict[str, dict[str, tuple[float, float]]]
]:
    """The load phases; also the CPU per request of each (`serving`: whose CPU counts) and
    the pages the projection runners committed."""
    budgets: dict[str, dict[str, float]] = {}
    runners: dict[str, dict[str, tuple[float, float]]] = {}  # phase: name: (pages/s, per page)
    operations = make_key(url, "operations")
    booking = make_key(url, "booking", "bench-site")
    setup = Client(berth_port, operations)
    facility = setup.call("POST", "/facilities", {"name": "Bench", "time_zone": "UTC"})
    pools = [
        str(setup.call("POST", f"/facilities/{facility['id']}/pools", {
            "name": f"pool {p}", "capacity": 1_000_000, "nightly_price": 1500, "currency": "EUR",
        })["id"])
        for p in range(20)
    ]  # fmt: skip
    first = datetime.now(UTC).date() + timedelta(days=1)

    baseline_clients = [Client(baseline_port) for _ in range(args.clients)]
    meter = CpuBudget(url, serving["baseline"])
    baseline = run_load(
        "baseline: save one aggregate per POST", args.clients, args.seconds,
        lambda c, n: baseline_clients[c].call("POST", "/save", {"n": n}),
    )  # fmt: skip
    budgets["baseline save"] = meter.per_operation(baseline.operations)

    clients = [Client(berth_port, booking) for _ in range(args.clients)]
    readers = [Client(berth_port, booking) for _ in range(2)]
    rng = [random.Random(c) for c in range(args.clients)]

    def phase(label: str, every: float | None, query_every: float | None) -> list[Result]:
        """Commands (flat out, or one pair per `every` s per client) with queries and lag."""
        committed: list[tuple[int, float]] = []  # (position, when the answer arrived)
        hold_latencies: list[float] = []
        query_latencies: list[float] = []
        lags: list[float] = []
        pages: Counter[str] = Counter()  # pages each runner committed (its NOTIFYs)
        reached_by: dict[str, list[int]] = {}  # each runner's first and last position notified
        stop = threading.Event()

        def hold_and_confirm(c: int, n: int) -> None:
            night = first + timedelta(days=rng[c].randrange(365))
            started = time.perf_counter()
            held = clients[c].call("POST", "/bookings", {
                "pool_id": rng[c].choice(pools), "arrival": night.isoformat(),
                "departure": (night + timedelta(days=rng[c].randint(1, 3))).isoformat(),
                "guest": {"name": "Bench Guest"}, "plates": ["BE-NCH-1"],
            })  # fmt: skip
            hold_latencies.append(time.perf_counter() - started)
            confirmed = clients[c].call("POST", f"/bookings/{held['id']}/confirm", {})
            committed.append((int(confirmed["position"]), time.perf_counter()))

        def query_loop(index: int, reader: Client) -> None:
            next_start = time.perf_counter() + (query_every or 0) * index / len(readers)
            while not stop.is_set():
                if query_every:
                    time.sleep(max(next_start - time.perf_counter(), 0))
                    next_start += query_every
                pool = random.choice(pools)
                started = time.perf_counter()
                reader.call(
                    "GET",
                    f"/availability?pool_id={pool}&from={first}&to={first + timedelta(days=6)}",
                )
                query_latencies.append(time.perf_counter() - started)

        def lag_sampler() -> None:
            """When each command's position reached the availability projection: the
            runner NOTIFYs each page's position as it commits it, so this listens (a
            command projected before its answer arrived has a lag of 0)."""
            waiting: list[tuple[int, float]] = []
            positions: list[int] = []  # as notified, ascending, with when each arrived
            arrivals: list[float] = []
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"LISTEN {POSITIONS_CHANNEL}")
                while not stop.is_set():
                    # (stop_after ends the wait once a batch came; it yields the whole batch)
                    for note in conn.notifies(timeout=0.05, stop_after=1):
                        name, _, position = note.payload.partition(":")
                        pages[name] += 1
                        reached_by.setdefault(name, [int(position), 0])[1] = int(position)
                        if name == "availability" and (
                            not positions or int(position) > positions[-1]
                        ):
                            positions.append(int(position))
                            arrivals.append(time.perf_counter())
                    del positions[:-LAG_HISTORY], arrivals[:-LAG_HISTORY]
                    while committed:
                        waiting.append(committed.pop())
                    still: list[tuple[int, float]] = []
                    for p, answered in waiting:
                        reached = bisect.bisect_left(positions, p)
                        if reached == len(positions):
                            still.append((p, answered))
                        else:
                            lags.append(max(arrivals[reached] - answered, 0.0))
                    waiting = still

        helpers = [
            threading.Thread(target=query_loop, args=(i, r), daemon=True)
            for i, r in enumerate(readers)
        ]
        helpers.append(threading.Thread(target=lag_sampler, daemon=True))
        for helper in helpers:
            helper.start()
        meter = CpuBudget(url, serving["berth"])
        pairs = run_load(
            f"berth: hold + confirm, {label}", args.clients, args.seconds, hold_and_confirm,
            every=every,
        )  # fmt: skip
        budgets[f"berth command, {label}"] = meter.per_operation(2 * pairs.operations)
        stop.set()
        for helper in helpers:
            helper.join(timeout=10)
        runners[f"berth command, {label}"] = {
            name: (count / pairs.seconds, (last - first) / max(count - 1, 1))
            for name, count in pages.items()
            for first, last in [reached_by[name]]
        }
        requests = Result(
            "  the hold requests of those", args.clients, len(hold_latencies), pairs.failures,
            pairs.seconds, hold_latencies,
        )  # fmt: skip
        queries = Result("  GET /availability meanwhile", len(readers), len(query_latencies), 0,
                         pairs.seconds, query_latencies)  # fmt: skip
        lag = Result("  availability projection lag", 1, len(lags), 0, pairs.seconds, lags)
        return [pairs, requests, queries, lag]

    saturated = phase("flat out", None, 0.05)
    pairs = saturated[0]
    command_rate = 2 * pairs.rate
    print(f"\ncommand requests/s vs baseline: {command_rate / baseline.rate:.0%}", file=sys.stderr)
    half = phase("paced at half that rate", 2 * args.clients / pairs.rate, 0.05)
    return [baseline, *saturated, *half], pools, budgets, runners


if __name__ == "__main__":
    main()
