"""Partner mails per second, SMTP accept to committed booking and reply, beside HTTP holds.

    .venv/bin/python bench/mail.py [--seconds 15] [--clients 4]

In one run, on a scratch database `berth_bench_mail` (embedded PostgreSQL unless
BERTH_DATABASE_URL): gunicorn serving Berth (2 workers x 4 threads, as in the
Procfile) takes hold+confirm pairs over HTTP from `--clients` threads (the
baseline); then `berth worker mail-smtp` takes key-value booking mails over SMTP
from `--clients` smtplib sessions, and an aiosmtpd capture server receives the
replies. A mail's latency runs from the moment the partner's DATA was accepted
(250: stored) to its reply's arrival (booking held and confirmed, reply sent);
each session sends its next mail once the last is answered, and the rate counts
replies. Each booking has its own reference, spread over 20 pools
and 365 nights.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import http.client
import json
import os
import random
import smtplib
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).parent))

from berth.adapters.mail import partners
from berth.adapters.postgres import apikeys
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.cause import Cause
from common import HEADER, Result, run_load, scratch_database

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CAUSE = Cause(principal="bench", channel="bench", request_id="r", correlation_id="c")
DOMAIN = "bookings.bench.test"
SENDER = "res@partner.bench.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port}")


class Replies:
    """The capture server's handler: when each reply (by In-Reply-To) arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.changed:
            self.arrived[str(reply["In-Reply-To"])] = time.perf_counter()
            self.changed.notify_all()
        return "250 OK"

    def wait_for(self, message_id: str, timeout: float = 60.0) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: message_id in self.arrived, timeout):
                raise TimeoutError(f"no reply to {message_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    url = scratch_database("berth_bench_mail")
    app = open_reservations(url)
    facility = app.register_facility(name="Bench", time_zone="UTC", cause=CAUSE).id
    pools = [
        app.add_pool(
            facility_id=facility, name=f"pool {p}", capacity=1_000_000, nightly_price=1500,
            currency="EUR", cause=CAUSE,
        ).id
        for p in range(20)
    ]  # fmt: skip
    app.close()
    with psycopg.connect(url, autocommit=True) as conn:
        token = apikeys.create_key(conn, role="booking", scope="web", label="bench")[1]
        mail_partners = [
            partners.create(
                conn, name=f"partner {p}", channel="partner", pool_id=pool,
                sender_list=[f"res{p}@partner.bench.test"], format_config={"kind": "key-value"},
                principal="bench",
            )
            for p, pool in enumerate(pools)
        ]  # fmt: skip
    del mail_partners
    replies = Replies()
    relay_port, smtp_port, http_port = free_port(), free_port(), free_port()
    capture = Controller(replies, hostname="127.0.0.1", port=relay_port)
    capture.start()
    env = dict(
        os.environ, BERTH_DATABASE_URL=url, BERTH_SMTP_PORT=str(smtp_port),
        BERTH_SMTP_DOMAIN=DOMAIN, BERTH_SMTP_RELAY=f"127.0.0.1:{relay_port}",
        BERTH_LOG_LEVEL="WARNING", PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )  # fmt: skip
    web = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{http_port}", "--workers", "2",
         "--threads", "4", "--keep-alive", "30", "berth.http.wsgi:app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(BIN / "berth"), "worker", "mail-smtp"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    first = datetime.now(UTC).date() + timedelta(days=1)
    try:
        wait_for_port(http_port)
        wait_for_port(smtp_port)
        results = [
            http_holds(http_port, token, pools, first, args),
            mails(smtp_port, replies, len(pools), first, args),
        ]
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            process.wait(timeout=30)
        capture.stop()
    print(
        f"\nMail benchmark, {args.seconds:.0f} s per row, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(HEADER)
    for result in results:
        print(result.row())


def http_holds(
    port: int, token: str, pools: list[Any], first: Any, args: argparse.Namespace
) -> Result:
    connections = [
        http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(args.clients)
    ]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    rng = [random.Random(c) for c in range(args.clients)]

    def call(c: int, path: str, body: object) -> dict[str, Any]:
        connections[c].request("POST", path, body=json.dumps(body), headers=headers)
        response = connections[c].getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        return dict(json.loads(data))

    def hold_and_confirm(c: int, n: int) -> None:
        night = first + timedelta(days=rng[c].randrange(365))
        held = call(c, "/bookings", {
            "pool_id": str(rng[c].choice(pools)), "arrival": night.isoformat(),
            "departure": (night + timedelta(days=2)).isoformat(), "guest": {"name": "Bench"},
        })  # fmt: skip
        call(c, f"/bookings/{held['id']}/confirm", {})

    return run_load("HTTP hold+confirm (baseline)", args.clients, args.seconds, hold_and_confirm)


def mails(
    port: int, replies: Replies, partner_count: int, first: Any, args: argparse.Namespace
) -> Result:
    sessions = [smtplib.SMTP("127.0.0.1", port, timeout=60) for _ in range(args.clients)]
    rng = [random.Random(100 + c) for c in range(args.clients)]
    accepted: dict[str, float] = {}

    def send(c: int, n: int) -> None:
        night = first + timedelta(days=rng[c].randrange(365))
        p = rng[c].randrange(partner_count)
        message = EmailMessage()
        message["From"] = f"res{p}@partner.bench.test"
        message["To"] = f"book@{DOMAIN}"
        message["Subject"] = f"Booking {c}-{n}"
        message_id = f"<bench-{c}-{n}@partner.bench.test>"
        message["Message-ID"] = message_id
        message.set_content(
            f"Reference: B-{c}-{n}\nArrival: {night}\nDeparture: {night + timedelta(days=2)}\n"
            "Guest: Bench Guest\n"
        )
        data = message.as_bytes(policy=email.policy.SMTP)
        sessions[c].sendmail(message["From"], [f"book@{DOMAIN}"], data)
        accepted[message_id] = time.perf_counter()
        replies.wait_for(message_id)  # a closed loop: the next mail once this one is answered

    started = time.perf_counter()
    sent = run_load("mail: accepted, booked, replied", args.clients, args.seconds, send)
    deadline = time.monotonic() + 120
    while len(replies.arrived) < len(accepted) and time.monotonic() < deadline:
        time.sleep(0.1)
    for session in sessions:
        session.quit()
    done = [m for m in accepted if m in replies.arrived]
    elapsed = max(replies.arrived[m] for m in done) - started if done else 1.0
    replied = f"{len(done)} replied in {elapsed:.1f} s"
    print(f"mail: {sent.operations} accepted in {sent.seconds:.1f} s, {replied}")
    return Result(
        name="mail: accept to booked and replied",
        clients=args.clients,
        operations=len(done),
        failures=len(accepted) - len(done) + sent.failures,
        seconds=elapsed,
        latencies=[replies.arrived[m] - accepted[m] for m in done],
    )


if __name__ == "__main__":
    main()
