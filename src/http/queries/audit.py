"""GET /audit/...: an aggregate's history and state as of a cut, the books as of a cut.

Answered from the event store itself by replaying events (`berth.adapters.audit.audit_history`),
never from a read model, so there is no `min_position` to wait for.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import falcon

from berth.adapters.audit import audit_history
from berth.adapters.audit.audit_history import Cut
from berth.http import paging
from berth.http.endpoint import ADMIN, AUDITOR, Endpoint, roles
from berth.http.schemas import audit as schemas
from berth.http.schemas.base import shared
from berth.http.settings import Services
from berth.projections.history import Step

AUDITORS = roles(AUDITOR, ADMIN)


def _version(cursor: str) -> int | None:
    """A cursor as the history answered before: the version a page ended at."""
    if cursor.isascii() and cursor.isdigit() and paging.whole(int(cursor)):
        return int(cursor)
    return None


def _cut(query: dict[str, Any]) -> Cut:
    return Cut(as_of=query.get("as_of"), position=query.get("position"))


def _event(step: Step) -> dict[str, Any]:
    return step.as_dict() | {"timestamp": step.timestamp}


class AuditQuery:
    def __init__(self, services: Services) -> None:
        self.services = services


class HistoryResource(AuditQuery):
    endpoints = {
        "GET": Endpoint(
            summary="Every event of an aggregate in order, who caused it, and the state after it",
            tag="audit",
            roles=AUDITORS,
            query=schemas.HistoryQuery,
            response=schemas.HistoryPage,
            errors=(404,),
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, aggregate_id: UUID) -> None:
        query = req.context.query
        cursor = query.get("cursor")
        after = paging.after(cursor, legacy=_version, check=paging.whole) if cursor else 0
        with self.services.pool.connection() as conn:
            page = audit_history.history_page(conn, aggregate_id, after=after, limit=query["limit"])
        resp.media = shared(schemas.HistoryPage).dump(
            {"events": [_event(s) for s in page.steps]} | paging.page(req, page.next_cursor)
        )


class StateResource(AuditQuery):
    endpoints = {
        "GET": Endpoint(
            summary="An aggregate's state as of a time or a position, replayed from its events",
            tag="audit",
            roles=AUDITORS,
            query=schemas.CutQuery,
            response=schemas.StateAsOf,
            errors=(404,),
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, aggregate_id: UUID) -> None:
        query = req.context.query
        with self.services.pool.connection() as conn:
            step = audit_history.state_as_of(conn, aggregate_id, _cut(query))
        resp.media = shared(schemas.StateAsOf).dump(
            _event(step) | {"as_of": query.get("as_of"), "asked_position": query.get("position")}
        )


class TrialBalanceResource(AuditQuery):
    endpoints = {
        "GET": Endpoint(
            summary="A facility's trial balance as of a time or a position, replayed from "
            "every event through the posting rules (not read from the ledger)",
            tag="audit",
            roles=AUDITORS,
            query=schemas.TrialBalanceCutQuery,
            response=schemas.TrialBalanceAsOf,
            errors=(404,),
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = req.context.query
        with self.services.pool.connection() as conn:
            books = audit_history.trial_balance_as_of(
                conn, query["facility_id"], _cut(query), checkpoints=not query["from_zero"]
            )
        resp.media = shared(schemas.TrialBalanceAsOf).dump(
            books | {"as_of": query.get("as_of"), "position": query.get("position")}
        )


def audit_routes(services: Services) -> list[tuple[str, Any]]:
    return [
        ("/audit/aggregates/{aggregate_id:uuid}/events", HistoryResource(services)),
        ("/audit/aggregates/{aggregate_id:uuid}/state", StateResource(services)),
        ("/audit/ledger/trial-balance", TrialBalanceResource(services)),
    ]
