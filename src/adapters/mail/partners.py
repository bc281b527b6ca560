"""Partners who book by e-mail: the `mail_partners` table (migration 0170).

A partner has a name, the channel its bookings belong to, the pool it books, the
senders (addresses or @domains) its mail comes from, its format (configuration:
`berth.domain.partner_mail.formats`), and optionally a shared secret (kept as
its sha256 only) or a DKIM requirement with an optionally pinned public key.
A sender belongs to one partner at most, so a mail is never read for two.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg.types.json import Jsonb

from berth.domain import bounds
from berth.domain.error import DomainError, InvalidCommand
from berth.domain.partner_mail import formats, senders

Connection = psycopg.Connection[Any]

COLUMNS = (
    "partner_id, name, channel, pool_id, senders, format, secret_sha256, require_dkim,"
    " dkim_public_key, created_by, created_at"
)
MAX_NAME = 100
# A fixed key for the two-argument advisory lock that serialises sender claims.
_SENDERS_LOCK = (0x6D61696C, 1)


class InvalidPartner(InvalidCommand):
    code = "invalid-partner"


class PartnerExists(DomainError):
    code = "partner-exists"


class SenderTaken(DomainError):
    code = "sender-taken"


@dataclass(frozen=True, kw_only=True)
class Partner:
    partner_id: UUID
    name: str
    channel: str
    pool_id: UUID
    senders: tuple[str, ...]
    format: formats.MailFormat
    secret_sha256: str | None
    require_dkim: bool
    dkim_public_key: str | None
    created_by: str
    created_at: datetime

    def secret_matches(self, presented: str) -> bool:
        if self.secret_sha256 is None:
            return True
        return hmac.compare_digest(_digest(presented), self.secret_sha256)

    def as_dict(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "name": self.name,
            "channel": self.channel,
            "pool_id": self.pool_id,
            "senders": list(self.senders),
            "format": self.format.as_config(),
            "has_secret": self.secret_sha256 is not None,
            "require_dkim": self.require_dkim,
            "dkim_public_key": self.dkim_public_key,
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(row: Sequence[Any]) -> Partner:
    (pid, name, channel, pool_id, sender_list, fmt, secret, dkim, key, by, at) = row
    return Partner(
        partner_id=pid,
        name=name,
        channel=channel,
        pool_id=pool_id,
        senders=tuple(sender_list),
        format=formats.from_config(fmt),
        secret_sha256=secret,
        require_dkim=dkim,
        dkim_public_key=key,
        created_by=by,
        created_at=at,
    )


def _text(value: str, what: str, maximum: int) -> str:
    try:
        bounds.check_text(value, what=what, maximum=maximum)
    except bounds.InvalidText as error:
        raise InvalidPartner(str(error)) from None
    if not value.strip():
        raise InvalidPartner(f"{what} is empty")
    return value


def create(
    conn: Connection,
    *,
    name: str,
    channel: str,
    pool_id: UUID,
    sender_list: Sequence[str],
    format_config: dict[str, Any],
    secret: str | None = None,
    require_dkim: bool = False,
    dkim_public_key: str | None = None,
    principal: str,
) -> Partner:
    """Add a partner; refused if the name is taken or a sender already belongs to another."""
    _text(name, "the partner's name", MAX_NAME)
    _text(channel, "the channel", 100)
    if secret is not None:
        _text(secret, "the shared secret", 200)
    if dkim_public_key is not None:
        _text(dkim_public_key, "the DKIM public key", 2000)
    if not sender_list or len(sender_list) > senders.MAX_SENDERS:
        raise InvalidPartner(f"a partner has 1 to {senders.MAX_SENDERS} senders")
    try:
        normal = sorted({senders.normal(s) for s in sender_list})
        fmt = formats.from_config(format_config)
    except (senders.InvalidSender, formats.InvalidFormat) as error:
        raise InvalidPartner(str(error)) from None
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", _SENDERS_LOCK)
        if conn.execute("SELECT 1 FROM mail_partners WHERE name = %s", (name,)).fetchone():
            raise PartnerExists(f"a partner is already named {name!r}")
        taken = conn.execute(
            "SELECT name, s FROM mail_partners, unnest(senders) AS s WHERE s = ANY(%s) LIMIT 1",
            (normal,),
        ).fetchone()
        if taken:
            raise SenderTaken(f"the sender {taken[1]} belongs to the partner {taken[0]!r}")
        row = conn.execute(
            f"INSERT INTO mail_partners ({COLUMNS}) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now()) RETURNING " + COLUMNS,
            (
                uuid4(),
                name,
                channel,
                pool_id,
                normal,
                Jsonb(fmt.as_config()),
                _digest(secret) if secret is not None else None,
                require_dkim,
                dkim_public_key,
                principal,
            ),
        ).fetchone()
    assert row is not None
    return _row(row)


def list_partners(conn: Connection, *, after: str = "", limit: int = 100) -> list[Partner]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM mail_partners WHERE name > %s ORDER BY name LIMIT %s",
        (after, limit),
    ).fetchall()
    return [_row(r) for r in rows]


def get(conn: Connection, partner_id: UUID) -> Partner | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM mail_partners WHERE partner_id = %s",
        (partner_id,),
    ).fetchone()
    return _row(row) if row else None


def by_sender(conn: Connection, address: str) -> Partner | None:
    """The partner the address or its domain belongs to (an address wins over a domain)."""
    if not address:
        return None
    domain = "@" + senders.domain_of(address)
    row = conn.execute(
        f"SELECT {COLUMNS} FROM mail_partners"
        " WHERE %s = ANY(senders) OR %s = ANY(senders)"
        " ORDER BY (%s = ANY(senders)) DESC LIMIT 1",
        (address, domain, address),
    ).fetchone()
    return _row(row) if row else None
