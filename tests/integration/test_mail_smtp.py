"""Partner mail over real SMTP: the worker stores, processes, books once and replies, threaded."""

from __future__ import annotations

import email.policy
from datetime import date

import pytest

from mail_support import (
    booking_mail,
    bookings_of,
    capture_server,
    mail_rows,
    make_partner,
    make_pool,
    send,
    settings_for,
    smtp_worker,
    wait_until,
)

KEY_VALUE = """Dear Berth,

Action: new
Reference: PX-1042
Arrival: 2030-03-01
Departure: 2030-03-04
Guest: Ada Lovelace
Plate: AB12CDE

Kind regards
"""


def test_a_key_value_mail_books_hold_and_confirm_and_is_answered_in_its_thread(
    app_db_url: str,
) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    with capture_server() as (capture, relay_port):
        settings = settings_for(relay_port)
        with smtp_worker(app_db_url, settings):
            mail = booking_mail(KEY_VALUE, message_id="<kv-1@partner.test>")
            send(settings, mail)
            replies = capture.wait_for(1)
    assert mail_rows(app_db_url)[0][1] == "processed"
    [(reference, status, arrival, departure, quantity)] = bookings_of(app_db_url, "old-travel")
    assert (status, arrival, departure, quantity) == (
        "confirmed",
        date(2030, 3, 1),
        date(2030, 3, 4),
        1,
    )
    reply = replies[0]
    assert reply["In-Reply-To"] == "<kv-1@partner.test>"
    assert reply["To"] == "reservations@partner.test"
    assert reply["Subject"] == "Re: Booking"
    text = reply.get_content()
    assert f"PX-1042: confirmed as {reference}, 2030-03-01 to 2030-03-04, 36.00 EUR" in text


def test_a_resent_mail_never_books_twice(app_db_url: str) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    with capture_server() as (capture, relay_port):
        settings = settings_for(relay_port)
        with smtp_worker(app_db_url, settings):
            send(settings, booking_mail(KEY_VALUE, message_id="<same@partner.test>"))
            capture.wait_for(1)
            # the same message again (one row), then a new message with the same reference
            send(settings, booking_mail(KEY_VALUE, message_id="<same@partner.test>"))
            send(settings, booking_mail(KEY_VALUE, message_id="<again@partner.test>"))
            replies = capture.wait_for(2)
    assert [row[1] for row in mail_rows(app_db_url)] == ["processed", "processed"]
    assert len(bookings_of(app_db_url, "old-travel")) == 1
    assert "already booked: not booked again" in replies[1].get_content()


def test_change_and_cancel_mails_amend_and_cancel_the_partners_booking(app_db_url: str) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    change = "Action: change\nReference: PX-1042\nDeparture: 2030-03-06\n"
    cancel = "Action: cancel\nReference: PX-1042\n"
    with capture_server() as (capture, relay_port):
        settings = settings_for(relay_port)
        with smtp_worker(app_db_url, settings):
            send(settings, booking_mail(KEY_VALUE))
            capture.wait_for(1)
            send(settings, booking_mail(change))
            capture.wait_for(2)
            [(_, status, _, departure, _)] = bookings_of(app_db_url, "old-travel")
            assert (status, departure) == ("confirmed", date(2030, 3, 6))
            send(settings, booking_mail(cancel))
            replies = capture.wait_for(3)
    [(reference, status, _, _, _)] = bookings_of(app_db_url, "old-travel")
    assert status == "cancelled"
    assert "60.00 EUR (changed)" in replies[1].get_content()
    assert f"PX-1042: {reference} is cancelled" in replies[2].get_content()


def test_an_unknown_sender_is_quarantined_without_a_reply(app_db_url: str) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    with capture_server() as (capture, relay_port):
        settings = settings_for(relay_port)
        with smtp_worker(app_db_url, settings):
            send(
                settings, booking_mail(KEY_VALUE, sender="someone@else.test"), sender="x@else.test"
            )
            wait_until(lambda: mail_rows(app_db_url) and mail_rows(app_db_url)[0][1] != "stored")
    assert mail_rows(app_db_url)[0][1:3] == ("quarantined", "unknown-sender")
    assert capture.messages == []
    assert bookings_of(app_db_url, "old-travel") == []


def test_a_refused_command_is_quarantined_and_answered_with_the_reason(app_db_url: str) -> None:
    pool = make_pool(app_db_url, capacity=1)
    make_partner(app_db_url, pool)
    second = KEY_VALUE.replace("PX-1042", "PX-2000")
    with capture_server() as (capture, relay_port):
        settings = settings_for(relay_port)
        with smtp_worker(app_db_url, settings):
            send(settings, booking_mail(KEY_VALUE))
            capture.wait_for(1)
            send(settings, booking_mail(second))
            replies = capture.wait_for(2)
    rows = mail_rows(app_db_url)
    assert rows[1][1] == "quarantined"
    assert "PX-2000: refused:" in replies[1].get_content()
    assert len(bookings_of(app_db_url, "old-travel")) == 1


def test_a_mail_above_the_size_bound_is_refused_in_the_smtp_session(app_db_url: str) -> None:
    import smtplib  # noqa: PLC0415

    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool)
    with capture_server() as (_, relay_port):
        settings = settings_for(relay_port, max_bytes=64 * 1024)
        huge = booking_mail(
            KEY_VALUE, attachments=(("big.csv", "text/csv", b"reference\n" + b"PX-1,x\n" * 40_000),)
        )
        with smtp_worker(app_db_url, settings):
            # declared with SIZE: refused at MAIL FROM
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                send(settings, huge)
            assert refused.value.smtp_code == 552
            # not declared: refused when DATA ends, after reading no more than the bound
            with smtplib.SMTP("127.0.0.1", settings.smtp_port, timeout=30) as client:
                client.ehlo()
                assert client.mail("reservations@partner.test")[0] == 250
                assert client.rcpt(f"book@{settings.domain}")[0] == 250
                code, _ = client.data(huge.as_bytes(policy=email.policy.SMTP))
            assert code == 552
    assert mail_rows(app_db_url) == []


def test_a_recipient_outside_the_domain_is_refused(app_db_url: str) -> None:
    import smtplib  # noqa: PLC0415

    with capture_server() as (_, relay_port):
        settings = settings_for(relay_port)
        with (
            smtp_worker(app_db_url, settings),
            smtplib.SMTP("127.0.0.1", settings.smtp_port, timeout=30) as client,
            pytest.raises(smtplib.SMTPRecipientsRefused),
        ):
            client.sendmail("a@partner.test", ["someone@elsewhere.test"], b"Subject: x\r\n\r\nx")


def test_a_csv_mail_books_the_good_rows_and_answers_each_row(app_db_url: str) -> None:
    pool = make_pool(app_db_url)
    make_partner(app_db_url, pool, format_config={"kind": "csv", "delimiter": ";"})
    rows = (
        b"reference;arrival;departure;guest\n"
        b"R-1;2030-08-01;2030-08-02;Ann\n"
        b"R-2;2030-08-05;2030-08-01;Ben\n"
        b"R-3;2030-08-03;2030-08-04;Cat\n"
    )
    with capture_server() as (capture, relay_port):
        settings = settings_for(relay_port)
        with smtp_worker(app_db_url, settings):
            mail = booking_mail("rows attached", attachments=(("b.csv", "text/csv", rows),))
            send(settings, mail)
            [reply] = capture.wait_for(1)
    assert mail_rows(app_db_url)[0][1:3] == ("quarantined", "invalid-stay")
    assert sorted(b[2] for b in bookings_of(app_db_url, "old-travel")) == [
        date(2030, 8, 1),
        date(2030, 8, 3),
    ]
    lines = reply.get_content().splitlines()
    assert lines[0].startswith("R-1: confirmed as")
    assert lines[1].startswith("R-2: not read: the departure must be after the arrival")
    assert lines[2].startswith("R-3: confirmed as")
