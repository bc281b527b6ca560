"""Cameras registered on gates, each with the shared secret that signs its webhook calls.

A camera is known by (facility, camera id): camera ids are chosen per facility,
so two facilities may both have "cam-1", and a lookup always names the
facility of the gate being called. An HMAC needs the secret itself, so it is
stored as is (unlike API keys, of which only a hash is kept); limit who can
read this table.

Secrets change only together with the camera's event: a `CameraChange` is
handed to the event store's save (`camera_change=`) and written by the
recorder in the command's transaction (berth.adapters.postgres.eventstore). After a
re-key the previous secret stays valid until `previous_valid_until`, so a
camera can be given its new secret without a window of refused reads.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

Connection = psycopg.Connection[Any]
Cursor = psycopg.Cursor[Any]


@dataclass(frozen=True)
class Camera:
    camera_id: str
    gate_id: UUID
    facility_id: UUID
    secret: str
    previous_secret: str | None = None
    previous_valid_until: datetime | None = None

    def accepted_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its grace lasts."""
        accepted = [self.secret]
        if (
            self.previous_secret is not None
            and self.previous_valid_until is not None
            and now <= self.previous_valid_until
        ):
            accepted.append(self.previous_secret)
        return accepted


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class CameraChange:
    """A change to the secrets table, written in the transaction of the camera's event."""

    def write(self, cursor: Cursor) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class NewCamera(CameraChange):
    facility_id: UUID
    camera_id: str
    gate_id: UUID
    secret: str = field(default_factory=new_secret, repr=False)

    def write(self, cursor: Cursor) -> None:
        cursor.execute(
            "INSERT INTO gate_cameras (facility_id, camera_id, gate_id, secret)"
            " VALUES (%s, %s, %s, %s)",
            (self.facility_id, self.camera_id, self.gate_id, self.secret),
        )


@dataclass(frozen=True)
class CameraMove(CameraChange):
    facility_id: UUID
    camera_id: str
    gate_id: UUID

    def write(self, cursor: Cursor) -> None:
        cursor.execute(
            "UPDATE gate_cameras SET gate_id = %s WHERE facility_id = %s AND camera_id = %s"
            " RETURNING camera_id",
            (self.gate_id, self.facility_id, self.camera_id),
        )
        _check_one(cursor, self.camera_id)


@dataclass(frozen=True)
class CameraRekey(CameraChange):
    facility_id: UUID
    camera_id: str
    previous_valid_until: datetime
    secret: str = field(default_factory=new_secret, repr=False)

    def write(self, cursor: Cursor) -> None:
        cursor.execute(
            "UPDATE gate_cameras SET previous_secret = secret, previous_valid_until = %s,"
            " secret = %s, created_at = now() WHERE facility_id = %s AND camera_id = %s"
            " RETURNING camera_id",
            (self.previous_valid_until, self.secret, self.facility_id, self.camera_id),
        )
        _check_one(cursor, self.camera_id)


class CameraRowMissing(Exception):
    """The camera's event was about to be saved but it has no secret row: roll back."""


def _check_one(cursor: Cursor, camera_id: str) -> None:
    if cursor.fetchone() is None:
        raise CameraRowMissing(f"camera {camera_id!r} has no secret to change")


def find(conn: Connection, *, facility_id: UUID, camera_id: str) -> Camera | None:
    row = conn.execute(
        "SELECT camera_id, gate_id, facility_id, secret, previous_secret, previous_valid_until"
        " FROM gate_cameras WHERE facility_id = %s AND camera_id = %s",
        (facility_id, camera_id),
        prepare=True,
    ).fetchone()
    return Camera(*row) if row else None
