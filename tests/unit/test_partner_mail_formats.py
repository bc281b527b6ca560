"""Reading partner mails: each format is configuration, each item its own outcome."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage

import pytest

from berth.domain.partner_mail import formats, message, reading
from berth.domain.partner_mail.requests import BookingRequest, ItemProblem


def mail(body: str = "", attachments: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    m = EmailMessage()
    m["From"] = "Partner <Res@Partner.test>"
    m["Subject"] = "bookings"
    m["Message-ID"] = "<m1@partner.test>"
    m.set_content(body)
    for filename, mime, content in attachments:
        maintype, subtype = mime.split("/")
        m.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return m.as_bytes()


def items(raw: bytes, config: dict[str, object]) -> list[BookingRequest | ItemProblem]:
    return reading.bookings_in(message.read(raw), formats.from_config(config))


def test_key_value_lines_are_read_with_the_partners_own_field_names() -> None:
    body = "Hello\nBuchung: B-7\nVon: 01.03.2030\nBis: 03.03.2030\nGast: Ada\nAnzahl: 2\n"
    config = {
        "kind": "key-value",
        "fields": {
            "reference": "Buchung",
            "arrival": "Von",
            "departure": "Bis",
            "guest": "Gast",
            "quantity": "Anzahl",
        },
        "date_format": "%d.%m.%Y",
    }
    [item] = items(mail(body), config)
    assert item == BookingRequest(
        item=1,
        action="new",
        reference="B-7",
        arrival=date(2030, 3, 1),
        departure=date(2030, 3, 3),
        quantity=2,
        guest="Ada",
    )


def test_a_key_value_mail_without_a_reference_is_no_booking() -> None:
    [item] = items(mail("Just saying hello"), {"kind": "key-value"})
    assert isinstance(item, ItemProblem)
    assert item.code == "no-booking"


def test_each_csv_row_is_its_own_item_and_a_bad_row_spoils_only_itself() -> None:
    csv = (
        b"reference,arrival,departure,guest,action\n"
        b"R1,2030-03-01,2030-03-02,Ada,new\n"
        b"R2,2030-03-05,2030-03-01,Bob,new\n"
        b"R3,not-a-date,2030-03-02,Cy,new\n"
        b"R4,,,,cancel\n"
        b"R5,2030-03-01,2030-03-02,Di,explode\n"
    )
    found = items(mail("see attached", (("b.csv", "text/csv", csv),)), {"kind": "csv"})
    assert [type(i).__name__ for i in found] == [
        "BookingRequest",
        "ItemProblem",
        "ItemProblem",
        "BookingRequest",
        "ItemProblem",
    ]
    assert [getattr(i, "code", None) for i in found] == [
        None,
        "invalid-stay",
        "invalid-date",
        None,
        "unknown-action",
    ]
    assert found[3] == BookingRequest(item=4, action="cancel", reference="R4")


def test_a_csv_row_with_control_characters_or_too_many_cells_is_refused() -> None:
    csv = b"reference,arrival,departure,guest\nR1,2030-03-01,2030-03-02,A\x07da\nR2,1,2,3,4\n"
    found = items(mail("x", (("b.csv", "text/csv", csv),)), {"kind": "csv"})
    assert [i.code for i in found if isinstance(i, ItemProblem)] == ["invalid-text", "invalid-row"]


ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//partner//EN
BEGIN:VEVENT
UID:ics-1
DTSTART;VALUE=DATE:20300301
DTEND;VALUE=DATE:20300304
SUMMARY:Ada Lovelace
X-PLATE:AB12CDE
END:VEVENT
BEGIN:VEVENT
UID:ics-2
SEQUENCE:1
DTSTART;VALUE=DATE:20300310
DTEND;VALUE=DATE:20300312
SUMMARY:Bob
END:VEVENT
BEGIN:VEVENT
UID:ics-3
STATUS:CANCELLED
DTSTART;VALUE=DATE:20300310
DTEND;VALUE=DATE:20300312
END:VEVENT
END:VCALENDAR
"""


def test_icalendar_events_are_new_changed_or_cancelled_bookings() -> None:
    found = items(mail("x", (("invite.ics", "text/calendar", ICS),)), {"kind": "ics"})
    assert [(i.action, i.reference) for i in found if isinstance(i, BookingRequest)] == [
        ("new", "ics-1"),
        ("change", "ics-2"),
        ("cancel", "ics-3"),
    ]
    first = found[0]
    assert isinstance(first, BookingRequest)
    assert (first.arrival, first.departure, first.guest, first.plates) == (
        date(2030, 3, 1),
        date(2030, 3, 4),
        "Ada Lovelace",
        ("AB12CDE",),
    )


def test_a_broken_calendar_is_one_problem() -> None:
    found = items(
        mail("x", (("a.ics", "text/calendar", b"BEGIN:VCALENDAR\nnonsense"),)), {"kind": "ics"}
    )
    assert [i.code for i in found if isinstance(i, ItemProblem)] == ["invalid-ics"]


def test_a_format_without_its_attachment_is_no_booking() -> None:
    [item] = items(mail("Reference: R1"), {"kind": "csv"})
    assert isinstance(item, ItemProblem)
    assert item.code == "no-booking"


@pytest.mark.parametrize(
    "config",
    [
        {"kind": "xml"},
        {"kind": "csv", "fields": {"colour": "x"}},
        {"kind": "csv", "fields": {"guest": "a\x00b"}},
        {"kind": "csv", "delimiter": ";;"},
        {"kind": "csv", "actions": {"new": "book"}},
        {"kind": "csv", "date_format": "YYYY"},
        {"kind": "csv", "surprise": 1},
    ],
)
def test_a_format_that_is_not_one_is_refused(config: dict[str, object]) -> None:
    with pytest.raises(formats.InvalidFormat):
        formats.from_config(config)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage without headers",
        b'From: a@b.test\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n'
        b"Content-Type: text/csv; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"!!!!not base64\xff\r\n--x",
        b"Subject: no sender\r\n\r\nReference: R1\r\n",
    ],
)
def test_malformed_mime_is_a_named_problem_never_a_crash(raw: bytes) -> None:
    try:
        read = message.read(raw)
    except message.MalformedMail as malformed:
        assert malformed.code == "malformed-mail"
    else:  # lenient parsing: it must still read as no booking or bad rows, not crash
        found = reading.bookings_in(read, formats.from_config({"kind": "csv"}))
        assert all(isinstance(i, ItemProblem) for i in found)


def test_a_message_without_a_message_id_is_known_by_its_content() -> None:
    raw = b"From: a@b.test\r\nSubject: x\r\n\r\nReference: R1\r\n"
    sender, message_id, _ = message.envelope_of(raw)
    assert sender == "a@b.test"
    assert message_id == message.envelope_of(raw)[1]
    assert message_id.startswith("<sha256:")
