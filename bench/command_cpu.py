"""The CPU one command request costs, in one process, beside the raw baseline's save.

    .venv/bin/python bench/command_cpu.py [--requests 2000] [--rounds 3] [--sections]

bench/api.py measures rates over HTTP, which on 2 shared cores move with whatever
else runs. This measures what bounds them: CPU time per request (this process's,
from `time.process_time`, and its PostgreSQL backends', from /proc), which moves
much less. One thread calls the WSGI apps directly (no HTTP, no gunicorn, no
projection workers), alternating rounds:

- baseline: POST /save of bench/baseline_app.py (Falcon plus one eventsourcing
  aggregate saved);
- berth: POST /bookings (a hold of 1-3 nights on a random night of 20 pools x
  365 nights) then POST /bookings/{id}/confirm, with a booking key.

With `--sections`, one more Berth round with timers around the parts of the
command path (inclusive: a part's figure contains the parts it calls), to show
where a request's CPU goes; the timers cost a little CPU themselves, so that
round's total is not compared with the others.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import falcon.testing
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from berth.adapters.postgres import apikeys
from common import CpuMeter, scratch_database

App = Callable[..., Any]


def call(app: App, method: str, path: str, body: object, headers: dict[str, str]) -> Any:
    """The app's JSON answer to one request (raises on an error status)."""
    payload = json.dumps(body).encode()
    environ = falcon.testing.create_environ(
        method=method,
        path=path,
        body=payload,
        headers={"Content-Type": "application/json", **headers},
    )
    status: list[str] = []
    chunks = app(environ, lambda s, h, exc_info=None: status.append(s))
    data = b"".join(chunks)
    if not status or not status[0].startswith("2"):
        raise RuntimeError(f"{method} {path}: {status} {data[:200]!r}")
    return json.loads(data) if data else {}


class Berth:
    """Berth's API app on a scratch database, a facility of 20 pools, a booking key."""

    def __init__(self, url: str) -> None:
        from berth.http import wsgi  # noqa: PLC0415 - reads BERTH_DATABASE_URL when imported

        self.app = wsgi.app
        with psycopg.connect(url, autocommit=True) as conn:
            operations = apikeys.create_key(conn, role="operations", label="bench")[1]
            booking = apikeys.create_key(conn, role="booking", scope="bench-site", label="bench")
        ops = {"Authorization": f"Bearer {operations}"}
        self.headers = {"Authorization": f"Bearer {booking[1]}"}
        facility = call(self.app, "POST", "/facilities", {"name": "B", "time_zone": "UTC"}, ops)
        self.pools = [
            call(self.app, "POST", f"/facilities/{facility['id']}/pools", {
                "name": f"pool {p}", "capacity": 1_000_000, "nightly_price": 1500,
                "currency": "EUR",
            }, ops)["id"]
            for p in range(20)
        ]  # fmt: skip
        self.first = datetime.now(UTC).date() + timedelta(days=1)
        self.rng = random.Random(1)

    def pair(self) -> None:
        """A hold, then its confirm: two requests."""
        night = self.first + timedelta(days=self.rng.randrange(365))
        held = call(self.app, "POST", "/bookings", {
            "pool_id": self.rng.choice(self.pools), "arrival": night.isoformat(),
            "departure": (night + timedelta(days=self.rng.randint(1, 3))).isoformat(),
            "guest": {"name": "Bench Guest"}, "plates": ["BE-NCH-1"],
        }, self.headers)  # fmt: skip
        call(self.app, "POST", f"/bookings/{held['id']}/confirm", {}, self.headers)


def measure(
    url: str, label: str, requests: int, per_call: int, step: Callable[[int], None]
) -> tuple[float, float]:
    """CPU ms per request (here, backends) of `requests` requests, `per_call` per step."""
    meter = CpuMeter(url)
    calls = requests // per_call
    for n in range(calls):
        step(n)
        if n % 100 == 0 or n == calls - 1:
            sys.stderr.write(f"\r  {label}: {(n + 1) * per_call:,}/{requests:,} requests   ")
    sys.stderr.write("\n")
    return meter.per_operation(calls * per_call)


# The parts of the command path timed with --sections: (owner module, attribute path, label).
SECTIONS = [
    ("berth.http.auth", "Authenticate.process_resource", "middleware: API key"),
    ("berth.http.payloads", "LoadPayloads.process_resource", "middleware: load the body"),
    ("berth.http.observe", "Observe.process_response", "middleware: metrics and log"),
    ("berth.http.commands.execution", "CommandRunner.run", "command"),
    ("berth.domain.commanding", "CommandApplication.execute", "command > execute"),
    ("berth.adapters.postgres.eventstore", "BerthRecorder._begin", "execute > first round trip"),
    ("eventsourcing.application", "Repository.get", "execute > repository reads"),
    # (A command saves through CommandApplication._save; the baseline, Application.save.)
    ("berth.domain.commanding", "CommandApplication._save", "execute > save"),
    ("eventsourcing.application", "Application.save", "execute > save"),
    ("berth.adapters.postgres.eventstore", "BerthRecorder.insert_events", "save > insert, COMMIT"),
    ("berth.http.commands.execution", "_answer", "command > the answer's body"),
]


def timed_sections() -> tuple[dict[str, float], Counter[str]]:
    """Wrap each part in SECTIONS with a CPU timer; their totals, and their calls."""
    import importlib  # noqa: PLC0415

    spent: dict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    for module_name, attribute, label in SECTIONS:
        owner: Any = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def timer(*args: Any, _original: Any = original, _label: str = label, **kw: Any) -> Any:
            started = time.process_time()
            try:
                return _original(*args, **kw)
            finally:
                spent[_label] += time.process_time() - started
                calls[_label] += 1

        setattr(owner, name, functools.wraps(original)(timer))
    return spent, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sections", action="store_true")
    args = parser.parse_args()

    url = scratch_database("berth_bench_command_cpu")
    os.environ.update(BERTH_DATABASE_URL=url, BERTH_LOG_LEVEL="WARNING")
    import baseline_app  # noqa: PLC0415 - opens its store on BERTH_DATABASE_URL when imported

    berth = Berth(url)

    def save(n: int) -> None:
        call(baseline_app.app, "POST", "/save", {"n": n}, {})

    def pair(n: int) -> None:
        berth.pair()

    sys.stderr.write("  warming up\n")
    for n in range(200):
        save(n)
        pair(n)
    rows: dict[str, list[tuple[float, float]]] = {"baseline save": [], "berth command": []}
    for round_number in range(1, args.rounds + 1):
        rows["baseline save"].append(
            measure(url, f"round {round_number}, baseline", args.requests, 1, save)
        )
        rows["berth command"].append(
            measure(url, f"round {round_number}, berth", args.requests, 2, pair)
        )

    out = io.StringIO()
    out.write(
        f"\nCPU per request, one thread, no HTTP, {args.rounds} rounds of {args.requests:,}"
        f" requests, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (median of the rounds, ms)\n\n"
        "| request | this process | PostgreSQL backends | total | rounds (total) |\n"
        "| --- | ---: | ---: | ---: | --- |\n"
    )
    totals: dict[str, float] = {}
    for name, measured in rows.items():
        here = statistics.median(m[0] for m in measured)
        backends = statistics.median(m[1] for m in measured)
        totals[name] = here + backends
        each = ", ".join(f"{m[0] + m[1]:.2f}" for m in measured)
        out.write(f"| {name} | {here:.2f} | {backends:.2f} | {here + backends:.2f} | {each} |\n")
    ratio = totals["berth command"] / totals["baseline save"]
    out.write(f"\nA command request costs {ratio:.2f} times a baseline save.\n")

    if args.sections:
        spent, calls = timed_sections()
        from berth.http import wsgi  # noqa: PLC0415

        berth.app = wsgi.build()  # Falcon binds its middleware's methods when it builds an app
        sys.stderr.write("  warming up the timed app\n")
        for n in range(200):
            pair(n)
        spent.clear()
        calls.clear()
        requests = args.requests
        started = time.process_time()
        measure(url, "sections, berth", requests, 2, pair)
        whole = time.process_time() - started
        out.write(
            f"\nWhere a Berth command request's CPU goes (this process, inclusive; the timed"
            f" round: {whole / requests * 1000:.2f} ms per request)\n\n"
            "| part | ms per request | calls per request |\n| --- | ---: | ---: |\n"
        )
        for label in dict.fromkeys(label for _, _, label in SECTIONS):
            share = spent[label] / requests * 1000
            out.write(f"| {label} | {share:.3f} | {calls[label] / requests:.1f} |\n")
        spent.clear()
        started = time.process_time()
        measure(url, "sections, baseline", requests, 1, save)
        whole = time.process_time() - started
        saving = spent["execute > save"] / requests * 1000
        out.write(
            f"\nThe baseline's save, timed the same way: {saving:.3f} ms"
            f" of its {whole / requests * 1000:.2f} ms per request.\n"
        )
    print(out.getvalue())


if __name__ == "__main__":
    main()
