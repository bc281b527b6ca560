"""The SMTP inlet: an aiosmtpd server that stores each accepted message before it answers 250.

Only recipients at the configured domain are accepted (550 otherwise: no open
relay). A message above the size bound is refused by aiosmtpd with 552 while
DATA is read. The message is committed to the inbox (`inbox.store`) in a thread
of the server's executor, and only then does the client hear 250; if the
database cannot take it, the client hears 451 and tries again later, as SMTP
clients do. `on_stored` is told the new mail's id (the worker wakes its processor).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from psycopg_pool import ConnectionPool

from berth.adapters.mail import inbox
from berth.adapters.mail.settings import MailSettings

log = logging.getLogger(__name__)


class StoringHandler:
    def __init__(
        self, pool: ConnectionPool, settings: MailSettings, on_stored: Callable[[int], None]
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.on_stored = on_stored

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        domain = address.rpartition("@")[2].lower().rstrip(">")
        if domain != self.settings.domain:
            return "550 5.7.1 not a mailbox of this server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            mail_id, new = await loop.run_in_executor(None, self._store, raw)
        except (psycopg.Error, OSError) as error:
            log.warning("mail not stored, the client will retry: %s", error)
            return "451 4.3.0 cannot store the message now, try again later"
        if new:
            self.on_stored(mail_id)
        return f"250 2.0.0 stored as {mail_id}"

    def _store(self, raw: bytes) -> tuple[int, bool]:
        with self.pool.connection() as conn:
            return inbox.store(conn, raw, inlet="smtp", max_bytes=self.settings.max_bytes)


def controller(
    pool: ConnectionPool, settings: MailSettings, on_stored: Callable[[int], None]
) -> Controller:
    """The server, not started yet (`start()` binds it, `stop()` ends it)."""
    return Controller(
        StoringHandler(pool, settings, on_stored),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        data_size_limit=settings.max_bytes,
        server_hostname=settings.domain,
        ready_timeout=10.0,
    )
