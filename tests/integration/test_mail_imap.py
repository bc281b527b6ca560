"""The IMAP inlet against a real (in-process) IMAP server: store, flag, book, reply."""

from __future__ import annotations

import email.policy
import threading

import pytest

from berth.workers import mail
from imap_server import Mailbox, imap_server
from mail_support import (
    booking_mail,
    bookings_of,
    capture_server,
    mail_rows,
    make_partner,
    make_pool,
    settings_for,
    wait_until,
)

BODY = "Reference: IM-1\nArrival: 2030-04-01\nDeparture: 2030-04-03\nGuest: Grace Hopper\n"


@pytest.mark.parametrize("idle", [True, False], ids=["idle", "polling"])
def test_imap_mail_is_stored_flagged_booked_and_answered(app_db_url: str, idle: bool) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    box = Mailbox(idle=idle)
    box.deliver(
        booking_mail(BODY, message_id="<im-1@partner.test>").as_bytes(policy=email.policy.SMTP)
    )
    with capture_server() as (capture, relay_port), imap_server(box) as imap_port:
        settings = settings_for(
            relay_port,
            imap_host="127.0.0.1",
            imap_port=imap_port,
            imap_ssl=False,
            imap_user="partner",
            imap_password="secret",
            # with IDLE, only the server's EXISTS can wake the inlet within the wait below
            poll_seconds=120.0 if idle else 1.0,
        )
        stop = threading.Event()
        worker = threading.Thread(target=mail.serve_imap, args=(app_db_url, settings, stop))
        worker.start()
        try:
            capture.wait_for(1)
            # a second mail arrives while the inlet waits (in IDLE, or between polls),
            # and the first, still in the mailbox, is not stored again
            second = BODY.replace("IM-1", "IM-2")
            box.deliver(booking_mail(second).as_bytes(policy=email.policy.SMTP))
            replies = capture.wait_for(2)
        finally:
            stop.set()
            worker.join(timeout=30)
    assert box.seen == {1, 2}
    assert [row[1] for row in mail_rows(app_db_url)] == ["processed", "processed"]
    assert len(bookings_of(app_db_url, "old-travel")) == 2
    assert replies[0]["In-Reply-To"] == "<im-1@partner.test>"


def test_an_imap_mail_above_the_bound_is_kept_by_its_header_and_quarantined(
    app_db_url: str,
) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    box = Mailbox(idle=False)
    huge = booking_mail(BODY, attachments=(("a.csv", "text/csv", b"r\n" + b"x,y\n" * 50_000),))
    box.deliver(huge.as_bytes(policy=email.policy.SMTP))
    with capture_server() as (_, relay_port), imap_server(box) as imap_port:
        settings = settings_for(
            relay_port,
            imap_host="127.0.0.1",
            imap_port=imap_port,
            imap_ssl=False,
            imap_user="partner",
            imap_password="secret",
            max_bytes=64 * 1024,
        )
        stop = threading.Event()
        worker = threading.Thread(target=mail.serve_imap, args=(app_db_url, settings, stop))
        worker.start()
        try:
            rows = wait_until(lambda: mail_rows(app_db_url))
        finally:
            stop.set()
            worker.join(timeout=30)
    assert rows[0][1:3] == ("quarantined", "too-large")
    assert box.seen == {1}
    assert bookings_of(app_db_url, "old-travel") == []
