"""What the staff screen is configured with, and the collaborators it is handed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import ConnectionPool

from berth import config
from berth.adapters.staff import sessions
from berth.domain.application import Reservations

PREFIX = "/ops"


@dataclass(frozen=True, kw_only=True)
class ScreenSettings:
    # Mark cookies Secure even on plain HTTP (set it when a TLS proxy terminates in front
    # and does not say so in X-Forwarded-Proto); HTTPS requests always get Secure cookies.
    secure_cookies: bool = False
    session_hours: float = sessions.SESSION_HOURS
    # How often the live panels ask for news (htmx polling).
    poll_seconds: float = 2.0
    # Longest a page waits for its read models to show the write that led to it.
    consistency_timeout: float = 5.0
    max_form_bytes: int = 16 * 1024

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ScreenSettings:
        """The BERTH_SCREEN_* settings (and BERTH_CONSISTENCY_TIMEOUT) of `berth.config`."""
        settings = config.load(environ)
        return cls(
            secure_cookies=settings.screen_secure_cookies,
            session_hours=settings.screen_session_hours,
            poll_seconds=settings.screen_poll_seconds,
            consistency_timeout=settings.consistency_timeout,
        )


@dataclass(frozen=True, kw_only=True)
class Screen:
    """The command application, a pool of autocommit connections for reads, and the clock:
    the same ones the API is handed (`berth.wsgi` builds them once for both)."""

    reservations: Reservations
    pool: ConnectionPool
    clock: Callable[[], datetime]
