"""What the HTTP app is configured with, and the collaborators it is handed."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import ConnectionPool

from berth.adapters.postgres import idempotency
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
    # GET /health is red once a projection's oldest unapplied event is older than this.
    projection_max_lag_seconds: float = 300.0
    # How long a camera's previous secret is still accepted after it was re-keyed.
    camera_secret_grace_seconds: int = 24 * 3600

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        defaults = cls()
        return cls(
            max_body_bytes=int(environ.get("BERTH_MAX_BODY_BYTES", defaults.max_body_bytes)),
            consistency_timeout=float(
                environ.get("BERTH_CONSISTENCY_TIMEOUT", defaults.consistency_timeout)
            ),
            key_cache_seconds=float(
                environ.get("BERTH_KEY_CACHE_SECONDS", defaults.key_cache_seconds)
            ),
            signature_tolerance_seconds=int(
                environ.get(
                    "BERTH_SIGNATURE_TOLERANCE_SECONDS", defaults.signature_tolerance_seconds
                )
            ),
            projection_max_lag_seconds=float(
                environ.get("BERTH_PROJECTION_MAX_LAG_SECONDS", defaults.projection_max_lag_seconds)
            ),
            camera_secret_grace_seconds=int(
                environ.get(
                    "BERTH_CAMERA_SECRET_GRACE_SECONDS", defaults.camera_secret_grace_seconds
                )
            ),
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
