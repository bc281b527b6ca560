"""POST /gates/{gate_id}/reads: a camera reports a plate read and gets the barrier decision.

The caller is a gate device key of the gate's facility, and the body is signed
by the camera (see berth.http.signatures). Bookings that may carry the plate
are found in the bookings read model; the command side checks each of them,
decides, and stores the read once per read id.
"""

from __future__ import annotations

from uuid import UUID

import falcon

from berth.adapters import gate_cameras, gate_queries, queries
from berth.http import signatures
from berth.http.auth import caller
from berth.http.endpoint import ADMIN, GATE_DEVICE, Endpoint, roles
from berth.http.problems import Problem
from berth.http.schemas import gates
from berth.http.settings import Services, Settings

# How long an unknown plate waits for the bookings read model to catch up, in case
# the booking was confirmed a moment ago.
CATCH_UP_SECONDS = 0.25


class PlateReadsResource:
    endpoints = {
        "POST": Endpoint(
            summary="Report a plate read; answers open or deny, the booking and the reason",
            tag="gates",
            roles=roles(GATE_DEVICE, ADMIN),
            body=gates.PlateReadBody,
            response=gates.GateDecision,
            errors=(401, 403, 404),
        )
    }

    def __init__(self, services: Services, settings: Settings) -> None:
        self.services = services
        self.app = services.reservations
        self.tolerance = settings.signature_tolerance_seconds

    def on_post(self, req: falcon.Request, resp: falcon.Response, gate_id: UUID) -> None:
        body = req.context.body
        gate = self.app.gate(gate_id)
        who = caller(req)
        if not who.sees_facility(gate.facility_id):
            raise Problem(
                403, "wrong-facility", "Wrong facility", "this key is for another facility"
            )
        plates = [body["plate"], *body["candidates"]]
        with self.services.pool.connection() as conn:
            camera = gate_cameras.find(conn, body["camera_id"])
            if camera is None or camera.gate_id != gate.id:
                raise Problem(
                    401, "unknown-camera", "Unknown camera",
                    f"camera {body['camera_id']!r} is not registered on this gate",
                )  # fmt: skip
            signatures.verify(
                req.get_header(signatures.HEADER),
                secret=camera.secret,
                body=req.context.raw_body,
                now=self.services.clock(),
                tolerance=self.tolerance,
            )
            booking_ids = gate_queries.bookings_carrying(
                conn, facility_id=gate.facility_id, plates=plates
            )
            if not booking_ids:
                head = self.app.recorder.max_notification_id() or 0
                queries.wait_for_position(
                    conn, projections=["bookings"], min_position=head, timeout=CATCH_UP_SECONDS
                )
                booking_ids = gate_queries.bookings_carrying(
                    conn, facility_id=gate.facility_id, plates=plates
                )
        outcome = self.app.record_plate_read(
            read_id=body["read_id"],
            camera_id=body["camera_id"],
            gate_id=gate.id,
            plate=body["plate"],
            confidence=body["confidence"],
            captured_at=body["captured_at"],
            candidates=body["candidates"],
            image_ref=body["image_ref"],
            booking_ids=booking_ids,
            cause=who.cause(req),
        )
        resp.media = gates.GateDecision().dump(
            {
                "read_id": outcome.read_id,
                "decision": "open" if outcome.open else "deny",
                "open": outcome.open,
                "reason": outcome.reason,
                "booking_id": outcome.booking_id,
                "duplicate": outcome.duplicate,
                "position": outcome.position,
            }
        )
