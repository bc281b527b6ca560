"""Cameras registered on a gate, each with the shared secret that signs its webhook calls.

An HMAC needs the secret itself, so it is stored as is (unlike API keys, of
which only a hash is kept); limit who can read this table.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

Connection = psycopg.Connection[Any]


@dataclass(frozen=True)
class Camera:
    camera_id: str
    gate_id: UUID
    facility_id: UUID
    secret: str


def register(conn: Connection, *, camera_id: str, gate_id: UUID, facility_id: UUID) -> Camera:
    """Register a camera (or give it a new secret); the secret is returned this once."""
    camera = Camera(camera_id, gate_id, facility_id, secrets.token_urlsafe(32))
    conn.execute(
        "INSERT INTO gate_cameras (camera_id, gate_id, facility_id, secret)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (camera_id) DO UPDATE SET"
        " gate_id = EXCLUDED.gate_id, facility_id = EXCLUDED.facility_id,"
        " secret = EXCLUDED.secret, created_at = now()",
        (camera.camera_id, camera.gate_id, camera.facility_id, camera.secret),
    )
    return camera


def find(conn: Connection, camera_id: str) -> Camera | None:
    row = conn.execute(
        "SELECT camera_id, gate_id, facility_id, secret FROM gate_cameras WHERE camera_id = %s",
        (camera_id,),
        prepare=True,
    ).fetchone()
    return Camera(*row) if row else None
