"""The mail workers' settings, from the environment (README "Partner mail")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    return host, int(port)


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    domain: str = "bookings.invalid"  # the domain the SMTP inlet accepts mail for
    relay_host: str = "127.0.0.1"
    relay_port: int = 25
    reply_from: str = ""
    max_bytes: int = 1024 * 1024
    poll_seconds: float = 30.0
    processors: int = 2  # processing threads a worker runs
    imap_host: str = "127.0.0.1"
    imap_port: int = 993
    imap_ssl: bool = True
    imap_user: str = ""
    imap_password: str = ""
    imap_mailbox: str = "INBOX"

    @property
    def sender(self) -> str:
        return self.reply_from or f"bookings@{self.domain}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> MailSettings:
        d = cls()
        relay_host, relay_port = _host_port(
            environ.get("BERTH_SMTP_RELAY", f"{d.relay_host}:{d.relay_port}"), 25
        )
        ssl = environ.get("BERTH_IMAP_SSL", "1") not in ("0", "false", "no")
        return cls(
            smtp_host=environ.get("BERTH_SMTP_HOST", d.smtp_host),
            smtp_port=int(environ.get("BERTH_SMTP_PORT", d.smtp_port)),
            domain=environ.get("BERTH_SMTP_DOMAIN", d.domain).lower(),
            relay_host=relay_host,
            relay_port=relay_port,
            reply_from=environ.get("BERTH_MAIL_FROM", ""),
            max_bytes=int(environ.get("BERTH_MAIL_MAX_BYTES", d.max_bytes)),
            poll_seconds=float(environ.get("BERTH_MAIL_POLL_SECONDS", d.poll_seconds)),
            processors=max(1, min(16, int(environ.get("BERTH_MAIL_PROCESSORS", d.processors)))),
            imap_host=environ.get("BERTH_IMAP_HOST", d.imap_host),
            imap_port=int(environ.get("BERTH_IMAP_PORT", 993 if ssl else 143)),
            imap_ssl=ssl,
            imap_user=environ.get("BERTH_IMAP_USER", ""),
            imap_password=environ.get("BERTH_IMAP_PASSWORD", ""),
            imap_mailbox=environ.get("BERTH_IMAP_MAILBOX", d.imap_mailbox),
        )
