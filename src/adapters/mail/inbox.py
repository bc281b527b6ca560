"""The inbox: every received message, stored raw before anything is done with it.

`store` commits the raw message (idempotent by partner and Message-ID: a resent
copy is the same row) before the inlet says it was received; processing comes
after, from the stored row, so a crash in between loses nothing: `pending`
finds what was stored and not yet processed. Each booking of a message gets an
item outcome written in its command's transaction (`ItemWrite`, handed to the
event store's save), so a crash after a command and before the message's
outcome runs no command twice. `decide` sets the message's outcome and queues
its reply in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from berth.adapters.mail import partners
from berth.domain.error import DomainError, NotFound
from berth.domain.partner_mail import message

Connection = psycopg.Connection[Any]
Cursor = psycopg.Cursor[Any]

STORED, PROCESSED, QUARANTINED, REJECTED = "stored", "processed", "quarantined", "rejected"
FAILED_OUTCOMES = ("refused", "invalid")
_MAIL_COLUMNS = (
    "mail_id, scope, message_id, partner_id, sender, subject, inlet, size, status, reason,"
    " detail, round, received_at, decided_at, decided_by"
)


class UnknownMail(NotFound):
    code = "unknown-mail"


class NotQuarantined(DomainError):
    code = "not-quarantined"


@dataclass(frozen=True, kw_only=True)
class StoredMail:
    mail_id: int
    scope: str
    message_id: str
    partner_id: UUID | None
    sender: str
    subject: str
    inlet: str
    size: int
    status: str
    reason: str | None
    detail: str | None
    round: int
    received_at: datetime
    decided_at: datetime | None
    decided_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, kw_only=True)
class ItemOutcome:
    item: int
    partner_reference: str
    action: str
    outcome: str
    code: str
    message: str
    booking_id: UUID | None
    booking_version: int | None = None

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, kw_only=True)
class ItemWrite:
    """What a command's transaction records for a mail's item: its outcome, and for a new
    booking the partner's reference -> booking (the subject of the command)."""

    mail_id: int
    item: int
    partner_reference: str
    action: str
    outcome: str | None = None  # None: only the reference (the hold of a hold+confirm)
    partner_id: UUID | None = None  # set: keep partner_reference -> the subject booking

    def write(self, curs: Cursor, subject: tuple[UUID, int] | None) -> None:
        booking_id, version = subject if subject else (None, None)
        if self.partner_id is not None:
            curs.execute(
                "INSERT INTO mail_partner_refs (partner_id, partner_reference, booking_id)"
                " VALUES (%s, %s, %s)",
                (self.partner_id, self.partner_reference, booking_id),
            )
        if self.outcome is not None:
            record_item(
                curs,
                self.mail_id,
                ItemOutcome(
                    item=self.item,
                    partner_reference=self.partner_reference,
                    action=self.action,
                    outcome=self.outcome,
                    code="",
                    message="",
                    booking_id=booking_id,
                    booking_version=version,
                ),
            )


def store(
    conn: Connection, raw: bytes, *, inlet: str, max_bytes: int, size: int | None = None
) -> tuple[int, bool]:
    """Commit the raw message; its id, and whether it is new (False: a copy of a stored one).

    A message above `max_bytes` is kept without its body, quarantined as too large,
    so that it is not silently dropped (the SMTP inlet refuses it before DATA ends).
    """
    sender, message_id, subject = message.envelope_of(raw)
    partner = partners.by_sender(conn, sender)
    scope = str(partner.partner_id) if partner else f"unknown:{sender}"
    size = max(size or 0, len(raw))  # an IMAP inlet hands a too large mail's header alone
    too_large = size > max_bytes
    row = conn.execute(
        "INSERT INTO mail_inbox (scope, message_id, partner_id, sender, subject, inlet, raw, size,"
        " status, reason, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (scope, message_id) DO NOTHING RETURNING mail_id",
        (
            scope,
            message_id,
            partner.partner_id if partner else None,
            sender,
            subject,
            inlet,
            raw if len(raw) <= max_bytes else b"",  # a too large mail's header, if handed alone
            size,
            QUARANTINED if too_large else STORED,
            "too-large" if too_large else None,
            f"{size} bytes, above {max_bytes}" if too_large else None,
        ),
    ).fetchone()
    if row is not None:
        return int(row[0]), True
    existing = conn.execute(
        "SELECT mail_id FROM mail_inbox WHERE scope = %s AND message_id = %s", (scope, message_id)
    ).fetchone()
    assert existing is not None
    return int(existing[0]), False


def pending(conn: Connection, *, limit: int = 100) -> list[int]:
    rows = conn.execute(
        "SELECT mail_id FROM mail_inbox WHERE status = 'stored' ORDER BY mail_id LIMIT %s",
        (limit,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def load(conn: Connection, mail_id: int) -> tuple[StoredMail, bytes]:
    row = conn.execute(
        f"SELECT {_MAIL_COLUMNS}, raw FROM mail_inbox WHERE mail_id = %s",
        (mail_id,),
    ).fetchone()
    if row is None:
        raise UnknownMail(f"no mail {mail_id}")
    return StoredMail(**dict(zip(_MAIL_COLUMNS.split(", "), row[:-1], strict=True))), bytes(row[-1])


def set_partner(conn: Connection, mail_id: int, partner_id: UUID) -> None:
    """A mail from a sender unknown when it came, read for the partner added since."""
    conn.execute("UPDATE mail_inbox SET partner_id = %s WHERE mail_id = %s", (partner_id, mail_id))


def record_item(curs: Cursor | Connection, mail_id: int, outcome: ItemOutcome) -> None:
    curs.execute(
        "INSERT INTO mail_items (mail_id, item, partner_reference, action, outcome, code,"
        " message, booking_id, booking_version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            mail_id,
            outcome.item,
            outcome.partner_reference,
            outcome.action,
            outcome.outcome,
            outcome.code,
            outcome.message,
            outcome.booking_id,
            outcome.booking_version,
        ),
    )


def items(conn: Connection, mail_id: int) -> list[ItemOutcome]:
    rows = conn.execute(
        "SELECT item, partner_reference, action, outcome, code, message, booking_id,"
        " booking_version FROM mail_items WHERE mail_id = %s ORDER BY item",
        (mail_id,),
    ).fetchall()
    return [
        ItemOutcome(
            item=r[0],
            partner_reference=r[1],
            action=r[2],
            outcome=r[3],
            code=r[4],
            message=r[5],
            booking_id=r[6],
            booking_version=r[7],
        )
        for r in rows
    ]


def decide(
    conn: Connection,
    mail: StoredMail,
    *,
    status: str,
    reason: str | None,
    detail: str | None,
    reply: tuple[str, bytes] | None,
) -> None:
    """The message's outcome and its reply (recipient, message), in one transaction."""
    with conn.transaction():
        conn.execute(
            "UPDATE mail_inbox SET status = %s, reason = %s, detail = %s, decided_at = now(),"
            " decided_by = 'processing' WHERE mail_id = %s AND status = 'stored'",
            (status, reason, detail, mail.mail_id),
        )
        if reply is not None:
            conn.execute(
                "INSERT INTO mail_outbox (mail_id, round, recipient, message)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (mail_id, round) DO NOTHING",
                (mail.mail_id, mail.round, reply[0], reply[1]),
            )


def quarantined(conn: Connection, *, after: int = 0, limit: int = 100) -> list[StoredMail]:
    rows = conn.execute(
        f"SELECT {_MAIL_COLUMNS} FROM mail_inbox"
        " WHERE status = 'quarantined' AND mail_id > %s ORDER BY mail_id LIMIT %s",
        (after, limit),
    ).fetchall()
    names = _MAIL_COLUMNS.split(", ")
    return [StoredMail(**dict(zip(names, row, strict=True))) for row in rows]


def retry(conn: Connection, mail_id: int, *, principal: str) -> StoredMail:
    """Process a quarantined mail again: its failed items run again, the others stand."""
    with conn.transaction():
        _quarantined_for_update(conn, mail_id)
        conn.execute(
            "DELETE FROM mail_items WHERE mail_id = %s AND outcome = ANY(%s)",
            (mail_id, list(FAILED_OUTCOMES)),
        )
        conn.execute(
            "UPDATE mail_inbox SET status = 'stored', round = round + 1, decided_at = now(),"
            " decided_by = %s WHERE mail_id = %s",
            (principal, mail_id),
        )
    return load(conn, mail_id)[0]


def reject(conn: Connection, mail_id: int, *, principal: str) -> StoredMail:
    """Give up on a quarantined mail: it stays, with its reason, as rejected."""
    with conn.transaction():
        _quarantined_for_update(conn, mail_id)
        conn.execute(
            "UPDATE mail_inbox SET status = 'rejected', decided_at = now(), decided_by = %s"
            " WHERE mail_id = %s",
            (principal, mail_id),
        )
    return load(conn, mail_id)[0]


def _quarantined_for_update(conn: Connection, mail_id: int) -> None:
    row = conn.execute(
        "SELECT status FROM mail_inbox WHERE mail_id = %s FOR UPDATE", (mail_id,)
    ).fetchone()
    if row is None:
        raise UnknownMail(f"no mail {mail_id}")
    if row[0] != QUARANTINED:
        raise NotQuarantined(f"mail {mail_id} is {row[0]}, not quarantined")


def partner_booking(conn: Connection, partner_id: UUID, reference: str) -> UUID | None:
    row = conn.execute(
        "SELECT booking_id FROM mail_partner_refs WHERE partner_id = %s AND partner_reference = %s",
        (partner_id, reference),
    ).fetchone()
    return row[0] if row else None


def outbox(conn: Connection, mail_id: int) -> Sequence[tuple[int, str, bytes, datetime | None]]:
    """The mail's replies: (round, recipient, message, sent_at)."""
    rows = conn.execute(
        "SELECT round, recipient, message, sent_at FROM mail_outbox WHERE mail_id = %s"
        " ORDER BY round",
        (mail_id,),
    ).fetchall()
    return [(r[0], r[1], bytes(r[2]), r[3]) for r in rows]
