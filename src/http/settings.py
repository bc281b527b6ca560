"""What the HTTP app is configured with, and the collaborators it is handed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import ConnectionPool

from berth import config
from berth.adapters.postgres import idempotency
from berth.config import Config
from berth.domain.application import Reservations


@dataclass(frozen=True, kw_only=True)
class Settings:
    max_body_bytes: int = 64 * 1024
    # Longest a query waits for its projection to reach `min_position`.
    consistency_timeout: float = 5.0
    # How long a verified API key is trusted before it is looked up again.
    key_cache_seconds: float = 10.0
    idempotency_hours: int = 24
    # How far a camera's signature timestamp may be from now.
    signature_tolerance_seconds: int = 300
    # GET /health/projections is red (GET /health degraded) once a projection's oldest
    # unapplied event is older than this.
    projection_max_lag_seconds: float = 300.0
    # How long a camera's previous secret is still accepted after it was re-keyed.
    camera_secret_grace_seconds: int = 24 * 3600
    # Webhook URLs may name private and loopback addresses (BERTH_WEBHOOKS_ALLOW_PRIVATE).
    webhooks_allow_private: bool = False

    @classmethod
    def from_environ(cls, settings: Config | None = None) -> Settings:
        """The HTTP app's part of `berth.config` (read from the environment)."""
        settings = settings or config.load()
        return cls(**{name: getattr(settings, name) for name in _FROM_CONFIG})


# The fields above that are BERTH_* settings (`berth.config`), by the same name.
_FROM_CONFIG = (
    "max_body_bytes",
    "consistency_timeout",
    "key_cache_seconds",
    "signature_tolerance_seconds",
    "projection_max_lag_seconds",
    "camera_secret_grace_seconds",
    "webhooks_allow_private",
)


@dataclass(frozen=True, kw_only=True)
class Services:
    """The command application, a pool of autocommit connections for reads, and the clock."""

    reservations: Reservations
    pool: ConnectionPool
    clock: Callable[[], datetime]
    # Stores a command's answer over its idempotency placeholder, after the commit.
    store_answer: Callable[[idempotency.Connection, str, str, dict[str, Any]], None] = (
        idempotency.complete
    )
