"""Processing stored partner mail: CSV rows each their own outcome, retry after a fix, secrets,
DKIM, malformed MIME, iCalendar; replies queued only with the outcome that was committed."""

from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import dkim
import psycopg
import pytest

from berth.adapters.mail import inbox
from berth.adapters.mail.processing import MailProcessor
from berth.adapters.mail.settings import MailSettings
from berth.adapters.postgres import database
from berth.adapters.postgres.eventstore import open_reservations, utc_now
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay
from mail_support import PARTNER_ADDRESS, booking_mail, bookings_of, cause, make_partner, make_pool

CSV = (
    b"reference,arrival,departure,guest\n"
    b"C-1,2030-05-01,2030-05-03,Ada\n"
    b"C-2,2030-05-01,2030-05-03,Bob\n"
    b"C-3,2030-13-01,2030-05-03,Cy\n"
)


@pytest.fixture
def processor(app_db_url: str) -> Iterator[MailProcessor]:
    pool = database.request_pool(app_db_url, max_size=4)
    app = open_reservations(app_db_url)
    yield MailProcessor(pool, app, MailSettings(domain="bookings.berth.test"), clock=utc_now)
    app.close()
    pool.close()


def deliver(url: str, message: Any) -> int:
    raw = message if isinstance(message, bytes) else message.as_bytes(policy=email.policy.SMTP)
    with psycopg.connect(url, autocommit=True) as conn:
        mail_id, _ = inbox.store(conn, raw, inlet="test", max_bytes=1024 * 1024)
    return mail_id


def state(url: str, mail_id: int) -> tuple[Any, ...]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT status, reason FROM mail_inbox WHERE mail_id = %s", (mail_id,)
        ).fetchone()
        assert row is not None
        return tuple(row)


def replies(url: str, mail_id: int) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            email.message_from_bytes(m, policy=email.policy.default).get_content()  # type: ignore[attr-defined]
            for _, _, m, _ in inbox.outbox(conn, mail_id)
        ]


def test_each_csv_row_has_its_own_outcome_and_a_retry_runs_only_the_failed_ones(
    app_db_url: str, processor: MailProcessor
) -> None:
    pool = make_pool(app_db_url, capacity=1)
    make_partner(app_db_url, pool, format_config={"kind": "csv"})
    mail_id = deliver(
        app_db_url, booking_mail("attached", attachments=(("b.csv", "text/csv", CSV),))
    )
    assert processor.process(mail_id) == "quarantined"
    assert state(app_db_url, mail_id) == ("quarantined", "invalid-date,no-capacity")
    [first] = replies(app_db_url, mail_id)
    assert "C-1: confirmed as" in first
    assert "C-2: refused:" in first
    assert "C-3: not read:" in first
    assert len(bookings_of(app_db_url, "old-travel")) == 1
    # the operator raises the capacity and retries: C-2 books, C-1 is not booked again
    app = open_reservations(app_db_url)
    app.catalogue.change_capacity(
        pool_id=pool,
        first_night=date(2030, 5, 1),
        last_night=date(2030, 5, 2),
        capacity=2,
        context=CommandContext(cause=cause()),
    )
    app.close()
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        inbox.retry(conn, mail_id, principal="test")
    assert processor.process(mail_id) == "quarantined"
    assert state(app_db_url, mail_id) == ("quarantined", "invalid-date")
    assert len(bookings_of(app_db_url, "old-travel")) == 2
    second = replies(app_db_url, mail_id)[1]
    assert "C-2: confirmed as" in second
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        inbox.reject(conn, mail_id, principal="test")
        assert inbox.quarantined(conn) == []
    assert state(app_db_url, mail_id) == ("rejected", "invalid-date")


def test_a_partner_added_after_the_mail_came_gets_it_on_retry(
    app_db_url: str, processor: MailProcessor
) -> None:
    pool = make_pool(app_db_url)
    body = "Reference: L-1\nArrival: 2030-05-01\nDeparture: 2030-05-02\nGuest: Late\n"
    mail_id = deliver(app_db_url, booking_mail(body))
    assert processor.process(mail_id) == "quarantined"
    assert state(app_db_url, mail_id) == ("quarantined", "unknown-sender")
    assert replies(app_db_url, mail_id) == []  # no reply to a sender we do not know
    make_partner(app_db_url, pool)
    with psycopg.connect(app_db_url, autocommit=True) as conn:
        inbox.retry(conn, mail_id, principal="test")
    assert processor.process(mail_id) == "processed"
    assert len(bookings_of(app_db_url, "old-travel")) == 1


def test_a_wrong_or_missing_shared_secret_is_quarantined(
    app_db_url: str, processor: MailProcessor
) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool, secret="s3cret")
    body = "Reference: S-1\nArrival: 2030-05-01\nDeparture: 2030-05-02\nGuest: Sam\n"
    wrong = deliver(app_db_url, booking_mail(body, headers={"X-Partner-Secret": "guess"}))
    missing = deliver(app_db_url, booking_mail(body))
    right = deliver(app_db_url, booking_mail(body, headers={"X-Partner-Secret": "s3cret"}))
    assert [processor.process(m) for m in (wrong, missing, right)] == [
        "quarantined",
        "quarantined",
        "processed",
    ]
    assert state(app_db_url, wrong)[1] == "bad-secret"
    assert len(bookings_of(app_db_url, "old-travel")) == 1


def _rsa_key(tmp_path: Path) -> tuple[bytes, str]:
    private = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True
    )
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return private.read_bytes(), base64.b64encode(der).decode()


def test_dkim_is_verified_when_the_partner_requires_it(
    app_db_url: str, processor: MailProcessor, tmp_path: Path
) -> None:
    private, public = _rsa_key(tmp_path)
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool, require_dkim=True, dkim_public_key=public)
    body = "Reference: D-1\nArrival: 2030-05-01\nDeparture: 2030-05-02\nGuest: Dee\n"
    raw = booking_mail(body).as_bytes(policy=email.policy.SMTP)
    signature = dkim.sign(
        raw, b"sel", b"partner.test", private, include_headers=[b"From", b"Subject"]
    )
    signed = deliver(app_db_url, signature + raw)
    unsigned = deliver(app_db_url, booking_mail(body))
    tampered_raw = signature + raw.replace(b"D-1", b"D-9")
    tampered = deliver(app_db_url, tampered_raw.replace(b"Message-ID: <", b"Message-ID: <t"))
    assert processor.process(signed) == "processed"
    assert processor.process(unsigned) == "quarantined"
    assert processor.process(tampered) == "quarantined"
    assert state(app_db_url, unsigned)[1] == "dkim-failed"
    assert state(app_db_url, tampered)[1] == "dkim-failed"
    assert len(bookings_of(app_db_url, "old-travel")) == 1


def test_malformed_mime_from_a_partner_is_quarantined_and_answered(
    app_db_url: str, processor: MailProcessor
) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool, format_config={"kind": "csv"})
    raw = (
        f"From: {PARTNER_ADDRESS}\r\nMessage-ID: <bad@partner.test>\r\nSubject: x\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/csv; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=a.csv\r\n\r\n"
        "////\xff\xfe not base64 at all\r\n"
    ).encode("latin-1")
    mail_id = deliver(app_db_url, raw)
    assert processor.process(mail_id) == "quarantined"
    assert state(app_db_url, mail_id)[1] == "no-booking"  # lenient decoding: no readable CSV
    assert len(replies(app_db_url, mail_id)) == 1
    assert bookings_of(app_db_url, "old-travel") == []


ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//partner//EN\r
BEGIN:VEVENT\r
UID:I-1\r
DTSTART;VALUE=DATE:20300601\r
DTEND;VALUE=DATE:20300603\r
SUMMARY:Ida\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_icalendar_invitation_books_and_its_cancellation_cancels(
    app_db_url: str, processor: MailProcessor
) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool, format_config={"kind": "ics"})
    booked = deliver(app_db_url, booking_mail("x", attachments=(("i.ics", "text/calendar", ICS),)))
    assert processor.process(booked) == "processed"
    cancel = ICS.replace(b"VERSION:2.0\r\n", b"VERSION:2.0\r\nMETHOD:CANCEL\r\n")
    cancelled = deliver(
        app_db_url, booking_mail("x", attachments=(("i.ics", "text/calendar", cancel),))
    )
    assert processor.process(cancelled) == "processed"
    [(_, status, arrival, _, _)] = bookings_of(app_db_url, "old-travel")
    assert (status, arrival) == ("cancelled", date(2030, 6, 1))
    again = deliver(
        app_db_url, booking_mail("x", attachments=(("i.ics", "text/calendar", cancel),))
    )
    assert processor.process(again) == "processed"
    assert "(it already was)" in replies(app_db_url, again)[0]


def test_a_processed_mail_is_not_processed_again(app_db_url: str, processor: MailProcessor) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    body = "Reference: P-1\nArrival: 2030-05-01\nDeparture: 2030-05-02\nGuest: Pat\n"
    mail_id = deliver(app_db_url, booking_mail(body))
    assert processor.process(mail_id) == "processed"
    assert processor.process(mail_id) is None
    assert processor.process_pending() == 0
    assert len(replies(app_db_url, mail_id)) == 1


def test_a_crash_between_hold_and_confirm_confirms_the_held_booking_on_reprocessing(
    app_db_url: str, processor: MailProcessor
) -> None:
    """The state a crash leaves after the hold committed: the reference names a held booking."""
    pool = make_pool(app_db_url)
    partner = make_partner(app_db_url, pool)
    body = "Reference: H-1\nArrival: 2030-05-01\nDeparture: 2030-05-02\nGuest: Hal\n"
    mail_id = deliver(app_db_url, booking_mail(body))
    write = inbox.ItemWrite(
        mail_id=mail_id,
        item=1,
        partner_reference="H-1",
        action="new",
        partner_id=partner.partner_id,
    )
    held = processor.app.bookings.hold(
        pool_id=pool,
        stay=Stay(date(2030, 5, 1), date(2030, 5, 2)),
        quantity=1,
        guest={"name": "Hal"},
        context=CommandContext(
            cause=dataclasses.replace(cause(), channel="old-travel"), row_write=write
        ),
    )
    assert processor.process(mail_id) == "processed"
    [(_, status, _, _, _)] = bookings_of(app_db_url, "old-travel")
    assert status == "confirmed"
    assert processor.app.bookings.booking(held.id).status == "confirmed"


def test_a_reply_the_relay_cannot_take_stays_queued_until_it_can(
    app_db_url: str, processor: MailProcessor
) -> None:
    from berth.adapters.mail import outbox  # noqa: PLC0415
    from mail_support import capture_server, free_port  # noqa: PLC0415

    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    body = "Reference: O-1\nArrival: 2030-05-01\nDeparture: 2030-05-02\nGuest: Olu\n"
    mail_id = deliver(app_db_url, booking_mail(body, message_id="<o-1@partner.test>"))
    assert processor.process(mail_id) == "processed"
    down = MailSettings(domain="bookings.berth.test", relay_port=free_port())
    with pytest.raises(outbox.RelayFailed):
        outbox.send_one(processor.pool, down)
    with psycopg.connect(app_db_url) as conn:
        row = conn.execute("SELECT attempts, last_error, sent_at FROM mail_outbox").fetchone()
    assert row is not None
    assert (row[0], row[2]) == (1, None)
    assert "Connection" in row[1] or "refused" in row[1]
    with capture_server() as (capture, port):
        up = MailSettings(domain="bookings.berth.test", relay_port=port)
        assert outbox.send_one(processor.pool, up) is True
        assert outbox.send_one(processor.pool, up) is False
        [reply] = capture.wait_for(1)
    assert reply["In-Reply-To"] == "<o-1@partner.test>"
    with psycopg.connect(app_db_url) as conn:
        assert outbox.unsent(conn) == 0


def test_a_reply_goes_to_a_reply_to_only_if_it_is_the_partners(
    app_db_url: str, processor: MailProcessor
) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool, sender_list=[PARTNER_ADDRESS, "desk@partner.test"])
    body = "Reference: Y-1\nArrival: 2030-05-01\nDeparture: 2030-05-02\nGuest: Yan\n"
    own = deliver(app_db_url, booking_mail(body, headers={"Reply-To": "desk@partner.test"}))
    foreign = deliver(app_db_url, booking_mail(body, headers={"Reply-To": "thief@evil.test"}))
    assert processor.process(own) == "processed"
    assert processor.process(foreign) == "processed"
    with psycopg.connect(app_db_url) as conn:
        recipients = [inbox.outbox(conn, m)[0][1] for m in (own, foreign)]
    assert recipients == ["desk@partner.test", PARTNER_ADDRESS]
