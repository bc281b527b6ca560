"""What each route and method is: who may call it, what it reads, what it answers.

Resources carry an `Endpoint` per HTTP method in `endpoints` (queries declare
theirs on the class; commands are declared in `berth.http.commands.table`); the
middleware uses it to authenticate, to load the body and query string and to
enforce If-Match and Idempotency-Key, and the OpenAPI document is generated from
it, so the rules and the document cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

from berth.http.schemas.base import NoQuery

BOOKING = "booking"
OPERATIONS = "operations"
FINANCE = "finance"
AUDITOR = "auditor"
GATE_DEVICE = "gate_device"
ADMIN = "admin"

ALL_ROLES = frozenset({BOOKING, OPERATIONS, FINANCE, AUDITOR, GATE_DEVICE, ADMIN})
PUBLIC: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    summary: str
    tag: str
    roles: frozenset[str]  # empty: no key needed
    body: type[Schema] | None = None
    query: type[Schema] = NoQuery
    response: type[Schema] | None = None
    status: int = 200
    conditional: bool = False  # honours If-Match
    idempotent: bool = False  # honours Idempotency-Key
    errors: tuple[int, ...] = field(default=())
    operation_id: str = ""  # the OpenAPI operationId; derived from method and path if empty
    example: dict[str, Any] | None = None  # a valid body, shown in the OpenAPI document

    @property
    def public(self) -> bool:
        return not self.roles


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)
