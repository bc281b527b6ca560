"""Sending the queued replies (`mail_outbox`) through the SMTP relay, at least once.

A reply row is locked (FOR UPDATE SKIP LOCKED, so several senders share the
queue), sent, and marked sent in the same transaction: a crash after the relay
took it and before the commit sends it again, with the same Message-ID, so the
partner can tell it is a copy. A relay that refuses or is unreachable leaves it
queued with the error and the attempt counted.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from berth.adapters.mail.settings import MailSettings

log = logging.getLogger(__name__)

RELAY_TIMEOUT = 10.0


class RelayFailed(Exception):
    pass


def send_one(pool: ConnectionPool, settings: MailSettings) -> bool:
    """Send the oldest unsent reply; whether there was one. RelayFailed if it was not sent."""
    failure = None
    with pool.connection() as conn:
        conn.autocommit = False
        try:
            with conn.transaction():
                row = conn.execute(
                    "SELECT reply_id, recipient, message FROM mail_outbox WHERE sent_at IS NULL"
                    " ORDER BY reply_id LIMIT 1 FOR UPDATE SKIP LOCKED"
                ).fetchone()
                if row is None:
                    return False
                reply_id, recipient, message = row
                try:
                    _send(settings, recipient, bytes(message))
                except (OSError, smtplib.SMTPException) as error:
                    failure = f"{type(error).__name__}: {error}"[:500]
                conn.execute(
                    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = %s,"
                    " sent_at = CASE WHEN %s THEN now() END WHERE reply_id = %s",
                    (failure, failure is None, reply_id),
                )
        finally:
            conn.autocommit = True
    if failure is not None:
        raise RelayFailed(failure)
    return True


def _send(settings: MailSettings, recipient: str, message: bytes) -> None:
    with smtplib.SMTP(settings.relay_host, settings.relay_port, timeout=RELAY_TIMEOUT) as relay:
        relay.sendmail(settings.sender, [recipient], message)


def unsent(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL").fetchone()
    return int(row[0]) if row else 0
