"""The mail workers' settings, from `berth.config` (README "Partner mail")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from berth import config


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    try:
        number = int(port)
    except ValueError:
        number = 0
    if not host or not 1 <= number <= 65535:
        raise config.ConfigError(
            [f"{config.variable('smtp_relay')}={text!r}: expected host or host:port (1 to 65535)"]
        )
    return host, number


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
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> MailSettings:
        """The BERTH_SMTP_*, BERTH_MAIL_* and BERTH_IMAP_* settings of `berth.config`."""
        settings = config.load(environ)
        relay_host, relay_port = _host_port(settings.smtp_relay, 25)
        ssl = settings.imap_ssl
        return cls(
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            domain=settings.smtp_domain.lower(),
            relay_host=relay_host,
            relay_port=relay_port,
            reply_from=settings.mail_from,
            max_bytes=settings.mail_max_bytes,
            poll_seconds=settings.mail_poll_seconds,
            processors=settings.mail_processors,
            imap_host=settings.imap_host,
            imap_port=settings.imap_port or (993 if ssl else 143),
            imap_ssl=ssl,
            imap_user=settings.imap_user,
            imap_password=settings.imap_password,
            imap_mailbox=settings.imap_mailbox,
        )
