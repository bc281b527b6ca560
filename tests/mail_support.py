"""Partner mail test support: a partner, a capture SMTP server for replies, the SMTP worker.

Everything is real: the worker's aiosmtpd server on a free loopback port, smtplib
as the partner, and an aiosmtpd server capturing what the reply sender relays.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import smtplib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import psycopg
from aiosmtpd.controller import Controller

from berth.adapters.mail import partners
from berth.adapters.mail.settings import MailSettings
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.cause import Cause
from berth.workers import mail

DOMAIN = "bookings.berth.test"
PARTNER_ADDRESS = "reservations@partner.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cause() -> Cause:
    rid = str(uuid.uuid4())
    return Cause(principal="test", channel="operations", request_id=rid, correlation_id=rid)


def make_pool(url: str, *, capacity: int = 5, price: int = 1200) -> UUID:
    app = open_reservations(url)
    try:
        facility = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
        return app.add_pool(
            facility_id=facility,
            name="Long stay",
            capacity=capacity,
            nightly_price=price,
            currency="EUR",
            cause=cause(),
        ).id
    finally:
        app.close()


def make_partner(url: str, pool_id: UUID, **kwargs: Any) -> partners.Partner:
    options: dict[str, Any] = {
        "name": "Old Travel Ltd",
        "channel": "old-travel",
        "sender_list": [PARTNER_ADDRESS],
        "format_config": {"kind": "key-value"},
    }
    options.update(kwargs)
    with psycopg.connect(url, autocommit=True) as conn:
        return partners.create(conn, pool_id=pool_id, principal="test", **options)


@dataclass
class Capture:
    """An SMTP server keeping every message relayed to it."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} replies, wanted {count}"
        return self.messages


@contextlib.contextmanager
def capture_server() -> Iterator[tuple[Capture, int]]:
    capture = Capture()
    port = free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield capture, port
    finally:
        controller.stop()


def settings_for(relay_port: int, **kwargs: Any) -> MailSettings:
    options: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": free_port(),
        "domain": DOMAIN,
        "relay_host": "127.0.0.1",
        "relay_port": relay_port,
        "poll_seconds": 0.5,
        "max_bytes": 256 * 1024,
    }
    options.update(kwargs)
    return MailSettings(**options)


@contextlib.contextmanager
def smtp_worker(url: str, settings: MailSettings) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=mail.serve_smtp, args=(url, settings, stop), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", settings.smtp_port), timeout=1),
        ):
            break
        time.sleep(0.05)
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def booking_mail(
    body: str,
    *,
    sender: str = PARTNER_ADDRESS,
    message_id: str | None = None,
    subject: str = "Booking",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"book@{DOMAIN}"
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<{uuid.uuid4()}@partner.test>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, mime, content in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send(
    settings: MailSettings, message: EmailMessage | bytes, *, sender: str = PARTNER_ADDRESS
) -> None:
    with smtplib.SMTP("127.0.0.1", settings.smtp_port, timeout=30) as client:
        data = message if isinstance(message, bytes) else message.as_bytes(policy=email.policy.SMTP)
        client.sendmail(sender, [f"book@{DOMAIN}"], data)


def wait_until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def mail_rows(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT mail_id, status, reason, detail FROM mail_inbox ORDER BY mail_id"
        ).fetchall()


def bookings_of(url: str, channel: str) -> list[tuple[Any, ...]]:
    """(reference, status, arrival, departure, quantity) of the channel's bookings, from events."""
    app = open_reservations(url)
    try:
        with psycopg.connect(url) as conn:
            ids = conn.execute("SELECT booking_id FROM mail_partner_refs").fetchall()
        found = []
        for (booking_id,) in ids:
            booking = app.booking(booking_id)
            if booking.channel == channel:
                found.append(
                    (
                        booking.reference,
                        str(booking.status),
                        booking.arrival,
                        booking.departure,
                        booking.quantity,
                    )
                )
        return found
    finally:
        app.close()
