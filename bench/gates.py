"""Barrier decision latency through the webhook, from 20 lanes, while bookings are made.

    .venv/bin/python bench/gates.py [--seconds 20] [--bookers 4]

Starts Berth under gunicorn (as in the Procfile) with its bookings and occupancy
projection workers on a scratch database, adds 20 gates (10 entry, 10 exit)
each with a signed camera, and 2,000 confirmed, paid bookings with plates.
Then 20 lane clients send signed plate reads (nine in ten of a booked plate,
one in ten unknown) while `--bookers` clients hold and confirm a booking every
`--booking-every` seconds each (0 for flat out), and
the decision latency is measured per read: first with each lane reading every
`--every` seconds (a very busy site), then with every lane sending flat out
(the saturation point, where latency is lanes / throughput).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from api import BIN, Client, free_port, gunicorn, make_key, start, wait_until_up
from berth.http.signatures import HEADER as SIGNATURE
from berth.http.signatures import sign
from common import HEADER, Result, run_load, scratch_database

LANES = 20
BOOKINGS = 2000


class Lane(Client):
    def __init__(self, port: int, token: str, gate_id: str, camera_id: str, secret: str) -> None:
        super().__init__(port, token)
        self.gate_id, self.camera_id, self.secret = gate_id, camera_id, secret

    def read(self, plate: str, n: int) -> dict[str, object]:
        raw = json.dumps({
            "read_id": f"{self.camera_id}-{n}-{random.random()}", "camera_id": self.camera_id,
            "plate": plate, "confidence": 0.9, "captured_at": datetime.now(UTC).isoformat(),
        }).encode()  # fmt: skip
        self.conn.request(
            "POST",
            f"/gates/{self.gate_id}/reads",
            body=raw,
            headers=self.headers | {SIGNATURE: sign(self.secret, int(time.time()), raw)},
        )
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"read: {response.status} {data[:200]!r}")
        return dict(json.loads(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--bookers", type=int, default=4)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between a lane's reads")
    parser.add_argument(
        "--booking-every", type=float, default=0.2, help="seconds between a booker's bookings"
    )
    args = parser.parse_args()

    url = scratch_database("berth_bench_gates")
    root = Path(__file__).resolve().parents[1]
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, BERTH_DATABASE_URL=url, BERTH_LOG_LEVEL="WARNING", PATH=path,
               PYTHONPATH=str(root))  # fmt: skip
    port = free_port()
    processes = [
        gunicorn("berth.http.wsgi:app", port, env),
        start([str(BIN / "berth"), "worker", "bookings"], env),
        start([str(BIN / "berth"), "worker", "occupancy"], env),
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
    print(f"\ngates benchmark, {args.seconds:.0f} s, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(HEADER)
    for result in results:
        print(result.row())


def run(url: str, port: int, args: argparse.Namespace) -> list[Result]:
    ops = Client(port, make_key(url, "operations"))
    facility = ops.call("POST", "/facilities", {"name": "Bench", "time_zone": "UTC"})
    pool = ops.call("POST", f"/facilities/{facility['id']}/pools", {
        "name": "p", "capacity": 100_000, "nightly_price": 1000, "currency": "EUR"})  # fmt: skip
    device = make_key(url, "gate_device", str(facility["id"]))
    lanes = []
    for n in range(LANES):
        direction = "entry" if n % 2 == 0 else "exit"
        gate = ops.call("POST", f"/facilities/{facility['id']}/gates",
                        {"name": f"lane {n}", "direction": direction})  # fmt: skip
        camera = ops.call("POST", f"/gates/{gate['id']}/cameras", {"camera_id": f"cam-{n}"})
        lanes.append(Lane(port, device, str(gate["id"]), str(camera["camera_id"]),
                          str(camera["secret"])))  # fmt: skip

    booker = Client(port, make_key(url, "booking", "bench"))
    today = datetime.now(UTC).date()
    plates = []
    for n in range(BOOKINGS):
        plate = f"BN{n:05d}"
        held = booker.call("POST", "/bookings", {
            "pool_id": pool["id"], "arrival": today.isoformat(),
            "departure": (today + timedelta(days=2)).isoformat(),
            "guest": {"name": "Bench"}, "plates": [plate]})  # fmt: skip
        booker.call("POST", f"/bookings/{held['id']}/confirm", {})
        booker.call("POST", f"/bookings/{held['id']}/payments",
                    {"amount": held["total"], "currency": "EUR", "method": "card"})  # fmt: skip
        plates.append(plate)
        if n % 200 == 0:
            sys.stderr.write(f"\r  setting up bookings: {n}/{BOOKINGS}")
    sys.stderr.write("\n")

    stop = threading.Event()
    bookers = [Client(port, make_key(url, "booking", "bench")) for _ in range(args.bookers)]
    command_latencies: list[float] = []

    def book(index: int, client: Client) -> None:
        next_start = time.perf_counter() + args.booking_every * index / len(bookers)
        while not stop.is_set():
            time.sleep(max(next_start - time.perf_counter(), 0))
            next_start += args.booking_every
            started = time.perf_counter()
            held = client.call("POST", "/bookings", {
                "pool_id": pool["id"], "arrival": (today + timedelta(days=3)).isoformat(),
                "departure": (today + timedelta(days=4)).isoformat(),
                "guest": {"name": "B"}})  # fmt: skip
            client.call("POST", f"/bookings/{held['id']}/confirm", {})
            command_latencies.append(time.perf_counter() - started)

    threads = [
        threading.Thread(target=book, args=(i, c), daemon=True) for i, c in enumerate(bookers)
    ]
    for thread in threads:
        thread.start()
    rng = [random.Random(n) for n in range(LANES)]

    by_kind: dict[bool, list[float]] = {True: [], False: []}  # paced run only

    def read(lane: int, n: int) -> None:
        unknown = rng[lane].random() < 0.1
        plate = f"ZZ{rng[lane].randrange(10**5):05d}" if unknown else rng[lane].choice(plates)
        started = time.perf_counter()
        lanes[lane].read(plate, n)
        if not stop.is_set() and not flat_out.is_set():
            by_kind[unknown].append(time.perf_counter() - started)

    flat_out = threading.Event()

    paced = run_load(
        f"barrier decision, each lane {1 / args.every:g} read/s", LANES, args.seconds, read,
        every=args.every,
    )  # fmt: skip
    flat_out.set()
    decisions = run_load("barrier decision, lanes flat out", LANES, args.seconds, read)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    label = f"hold + confirm alongside, paced every {args.booking_every:g} s"
    commands = Result(label, args.bookers, len(command_latencies), 0,
                      decisions.seconds, command_latencies)  # fmt: skip
    known = Result("  of which a booked plate", LANES, len(by_kind[False]), 0, paced.seconds,
                   by_kind[False])  # fmt: skip
    unknown = Result("  of which an unknown plate", LANES, len(by_kind[True]), 0, paced.seconds,
                     by_kind[True])  # fmt: skip
    return [paced, known, unknown, decisions, commands]


if __name__ == "__main__":
    main()
