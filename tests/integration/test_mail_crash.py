"""A mail worker SIGKILLed between storing a mail and processing it loses nothing and books once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg

from berth.adapters.mail.processing import MAIL_LOCK
from mail_support import (
    DOMAIN,
    booking_mail,
    bookings_of,
    capture_server,
    free_port,
    mail_rows,
    make_partner,
    make_pool,
    send,
    settings_for,
    wait_until,
)

BERTH = Path(sys.executable).with_name("berth")
BODY = "Reference: K-1\nArrival: 2030-07-01\nDeparture: 2030-07-03\nGuest: Kim\n"


def start_worker(url: str, smtp_port: int, relay_port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        BERTH_DATABASE_URL=url,
        BERTH_SMTP_PORT=str(smtp_port),
        BERTH_SMTP_DOMAIN=DOMAIN,
        BERTH_SMTP_RELAY=f"127.0.0.1:{relay_port}",
        BERTH_MAIL_POLL_SECONDS="0.5",
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BERTH), "worker", "mail-smtp"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def test_a_worker_killed_after_storing_a_mail_leaves_it_to_the_next(
    app_db_url: str, tmp_path: Path
) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    with (
        capture_server() as (capture, relay_port),
        psycopg.connect(app_db_url, autocommit=True) as holder,
    ):
        # Hold the first mail's processing lock: the worker stores it and cannot process it.
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (MAIL_LOCK, 1))
        settings = settings_for(relay_port)
        first = start_worker(app_db_url, settings.smtp_port, relay_port, tmp_path / "w1.log")
        try:
            wait_until(lambda: _listening(settings.smtp_port))
            send(settings, booking_mail(BODY, message_id="<k-1@partner.test>"))
            assert mail_rows(app_db_url)[0][:2] == (1, "stored")  # accepted means stored
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", (MAIL_LOCK, 1))
        port = free_port()
        second = start_worker(app_db_url, port, relay_port, tmp_path / "w2.log")
        try:
            [reply] = capture.wait_for(1)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
    assert mail_rows(app_db_url)[0][:2] == (1, "processed")
    assert len(bookings_of(app_db_url, "old-travel")) == 1
    assert reply["In-Reply-To"] == "<k-1@partner.test>"
    assert second.returncode == 0, (tmp_path / "w2.log").read_text()


def _listening(port: int) -> bool:
    import socket  # noqa: PLC0415

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
