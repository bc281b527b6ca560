"""What a command runs with besides its own arguments: who caused it, the version the
caller expects its subject to be at, and what the store keeps with it.

Every command takes one `CommandContext`. The domain reads `cause` and
`expected_version`; `idempotency`, `camera_change` and `row_write` are the caller's, opaque
here: the transaction code (`CommandApplication._storage_arguments`) hands them to
the store, which writes them in the command's own transaction, beside its events.
"""

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from berth.domain.cause import Cause


class RowWrite(Protocol):
    """A row the caller keeps in the command's own transaction, beside its events (a partner
    mail's item outcome and reply, berth.adapters.mail): told the subject's (id, version)."""

    def write(self, cursor: Any, subject: tuple[UUID, int] | None) -> None: ...


@dataclass(frozen=True, kw_only=True)
class CommandContext:
    cause: Cause
    # The subject's version the caller saw (HTTP If-Match); a command that is not
    # conditional never reads it, and the HTTP layer refuses If-Match for those.
    expected_version: int | None = None
    # The first answer to keep for an Idempotency-Key (berth.adapters.postgres.eventstore).
    idempotency: object | None = None
    # A camera's secret row changing with the camera's event (berth.adapters.postgres.gate_cameras).
    camera_change: object | None = None
    # A row written with the command's events, told the subject (berth.adapters.mail.inbox).
    row_write: RowWrite | None = None
