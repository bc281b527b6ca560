"""GET /facilities/{facility_id}/occupancy and /unmatched-reads, for operations."""

from __future__ import annotations

from uuid import UUID

import falcon

from berth.adapters.read_models import gate_queries
from berth.http.auth import caller
from berth.http.endpoint import ADMIN, AUDITOR, GATE_DEVICE, OPERATIONS, Endpoint, roles
from berth.http.problems import Problem
from berth.http.queries.reads import Query
from berth.http.schemas import gates
from berth.http.schemas.base import shared

READERS = roles(OPERATIONS, AUDITOR, GATE_DEVICE, ADMIN)


def _check_facility(req: falcon.Request, facility_id: UUID) -> None:
    if not caller(req).sees_facility(facility_id):
        raise Problem(403, "wrong-facility", "Wrong facility", "this key is for another facility")


class OccupancyResource(Query):
    projections = ("occupancy",)
    endpoints = {
        "GET": Endpoint(
            summary="Vehicles on site, overstays and the count of unmatched reads",
            tag="gates",
            roles=READERS,
            query=gates.OccupancyQuery,
            response=gates.Occupancy,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        _check_facility(req, facility_id)
        self.services.reservations.catalogue.facility(facility_id)  # 404 for an unknown facility
        with self.consistent(req) as conn:
            found = gate_queries.occupancy(conn, facility_id=facility_id)
        resp.media = shared(gates.Occupancy).dump(found)


class UnmatchedReadsResource(Query):
    projections = ("occupancy",)
    endpoints = {
        "GET": Endpoint(
            summary="Plate reads no booking matched, newest first, for resolving by hand",
            tag="gates",
            roles=READERS,
            query=gates.UnmatchedQuery,
            response=gates.UnmatchedReads,
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, facility_id: UUID) -> None:
        _check_facility(req, facility_id)
        self.services.reservations.catalogue.facility(facility_id)
        with self.consistent(req) as conn:
            reads = gate_queries.unmatched_reads(
                conn,
                facility_id=facility_id,
                include_resolved=req.context.query["include_resolved"],
            )
        resp.media = shared(gates.UnmatchedReads).dump({"facility_id": facility_id, "reads": reads})
