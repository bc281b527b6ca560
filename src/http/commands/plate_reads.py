"""POST /gates/{gate_id}/reads: a camera reports a plate read and gets the barrier decision.

The caller is a gate device key of the gate's facility, and the body is signed
by the camera (see berth.http.signatures), which is looked up among that
facility's cameras only: a key of one facility never authenticates as
another's camera. The read's capture time must be within the signature
tolerance of the signed time. The read is then recorded exactly as
the Kafka inlet records it (berth.adapters.read_models.plate_reads).
"""

from __future__ import annotations

from uuid import UUID

import falcon

from berth.adapters.postgres import gate_cameras
from berth.adapters.read_models import plate_reads
from berth.http import signatures
from berth.http.auth import caller
from berth.http.commands.resource import CommandResource, Wiring
from berth.http.endpoint import Endpoint
from berth.http.problems import Problem
from berth.http.schemas import gates
from berth.http.schemas.base import shared


class PlateReadsResource(CommandResource):
    def __init__(self, wiring: Wiring, method: str, endpoint: Endpoint) -> None:
        super().__init__(wiring, method, endpoint)
        self.tolerance = wiring.settings.signature_tolerance_seconds

    def on_post(self, req: falcon.Request, resp: falcon.Response, gate_id: UUID) -> None:
        body = req.context.body
        gate = self.app.gates.gate(gate_id)
        who = caller(req)
        if not who.sees_facility(gate.facility_id):
            raise Problem(
                403, "wrong-facility", "Wrong facility", "this key is for another facility"
            )
        with self.services.pool.connection() as conn:
            camera = gate_cameras.find(
                conn, facility_id=gate.facility_id, camera_id=body["camera_id"]
            )
            if camera is None or camera.gate_id != gate.id:
                raise Problem(
                    401, "unknown-camera", "Unknown camera",
                    f"camera {body['camera_id']!r} is not registered on this gate",
                )  # fmt: skip
            now = self.services.clock()
            signed_at = signatures.verify(
                req.get_header(signatures.HEADER),
                secrets=camera.accepted_secrets(now),
                body=req.context.raw_body,
                now=now,
                tolerance=self.tolerance,
            )
            signatures.check_captured_at(
                body["captured_at"], signed_at=signed_at, tolerance=self.tolerance
            )
            outcome = plate_reads.record(self.app, conn, gate=gate, read=body, cause=who.cause(req))
        resp.media = shared(gates.GateDecision).dump(
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
