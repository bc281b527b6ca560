"""Every command endpoint, declared once: route, method, Endpoint (body schema, roles,
conditional, idempotent, example, operationId) and the resource that runs it.

The app serves these routes with these Endpoints; the middleware authenticates
and loads bodies from them, `berth.http.preconditions.Preconditions` enforces
If-Match and Idempotency-Key from them, and the OpenAPI document is built from
them: the rules and the document cannot drift apart
(tests/http/test_http_command_table.py walks this table to prove it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from berth.http.commands.apikeys import (
    ADMINS,
    CreateKeyResource,
    RevokeKeyResource,
    RotateKeyResource,
)
from berth.http.commands.bookings import HoldResource, SettleRefundResource, booking_action
from berth.http.commands.facilities import CapacityResource, FacilitiesResource, PoolsResource
from berth.http.commands.finance import CloseDayResource, ReverseEntryResource, TaxRateResource
from berth.http.commands.gates import (
    CamerasResource,
    GatesResource,
    MoveCameraResource,
    OverstayTariffResource,
    RekeyCameraResource,
    ResolveReadResource,
)
from berth.http.commands.plate_reads import PlateReadsResource
from berth.http.commands.projections import ProjectionRetriesResource, ProjectionSkipsResource
from berth.http.commands.rate_plans import (
    ChangeRatePlanResource,
    CreateRatePlanResource,
    RetireRatePlanResource,
)
from berth.http.commands.resource import CommandResource, Wiring
from berth.http.commands.webhooks import SUBSCRIBERS, RotateSecretResource
from berth.http.endpoint import (
    ADMIN,
    BOOKING,
    FINANCE,
    GATE_DEVICE,
    OPERATIONS,
    Endpoint,
    roles,
)
from berth.http.schemas import answers, commands, gates, projections, rate_plans
from berth.http.schemas import apikeys as key_schemas
from berth.http.schemas import ledger as ledger_schemas
from berth.http.schemas import webhooks as webhook_schemas
from berth.http.schemas.base import Empty

Resource = Callable[[Wiring, str, Endpoint], CommandResource]

MANAGERS = roles(OPERATIONS, ADMIN)
SELLERS = roles(BOOKING, OPERATIONS, ADMIN)
PAYERS = roles(BOOKING, FINANCE, OPERATIONS, ADMIN)
AN_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@dataclass(frozen=True, kw_only=True)
class Command:
    route: str
    method: str
    endpoint: Endpoint
    resource: Resource

    def build(self, wiring: Wiring) -> CommandResource:
        return self.resource(wiring, self.method, self.endpoint)


def _booking_action(
    name: str,
    operation_id: str,
    summary: str,
    allowed: frozenset[str],
    *,
    body: type[Any] = Empty,
    response: type[Any] = answers.Booking,
    example: dict[str, Any] | None = None,
) -> Command:
    return Command(
        route=f"/bookings/{{booking_id:uuid}}/{name}",
        method="POST",
        endpoint=Endpoint(
            summary=summary,
            tag="bookings",
            roles=allowed,
            body=body,
            response=response,
            conditional=True,
            idempotent=True,
            operation_id=operation_id,
            example=example if example is not None else {},
        ),
        resource=booking_action(name),
    )


COMMANDS: tuple[Command, ...] = (
    Command(
        route="/facilities",
        method="POST",
        endpoint=Endpoint(
            summary="Register a facility",
            tag="facilities",
            roles=MANAGERS,
            body=commands.RegisterFacility,
            response=answers.Facility,
            status=201,
            idempotent=True,
            operation_id="registerFacility",
            example={"name": "Harbour car park", "time_zone": "Europe/London"},
        ),
        resource=FacilitiesResource,
    ),
    Command(
        route="/facilities/{facility_id:uuid}/pools",
        method="POST",
        endpoint=Endpoint(
            summary="Add a pool of capacity to a facility",
            tag="facilities",
            roles=MANAGERS,
            body=commands.AddPool,
            response=answers.Pool,
            status=201,
            idempotent=True,
            operation_id="addPool",
            example={
                "name": "Long stay",
                "capacity": 120,
                "nightly_price": 1200,
                "currency": "EUR",
            },
        ),
        resource=PoolsResource,
    ),
    Command(
        route="/pools/{pool_id:uuid}/capacity",
        method="PUT",
        endpoint=Endpoint(
            summary="Set a pool's capacity for a range of nights",
            tag="facilities",
            roles=MANAGERS,
            body=commands.ChangeCapacity,
            response=answers.Pool,
            conditional=True,
            idempotent=True,
            operation_id="changeCapacity",
            example={"first_night": "2030-06-01", "last_night": "2030-06-07", "capacity": 100},
        ),
        resource=CapacityResource,
    ),
    Command(
        route="/bookings",
        method="POST",
        endpoint=Endpoint(
            summary="Hold capacity for a stay (the channel is the API key's)",
            tag="bookings",
            roles=SELLERS,
            body=commands.HoldBooking,
            response=answers.Booking,
            status=201,
            idempotent=True,
            operation_id="holdBooking",
            example={
                "pool_id": AN_ID,
                "arrival": "2030-06-01",
                "departure": "2030-06-03",
                "quantity": 1,
                "guest": {"given_name": "Ada", "family_name": "Lovelace"},
                "plates": ["AB12 CDE"],
            },
        ),
        resource=HoldResource,
    ),
    _booking_action("confirm", "confirmBooking", "Confirm a held booking", SELLERS),
    _booking_action(
        "amend",
        "amendBooking",
        "Amend dates, quantity, guest or plates",
        SELLERS,
        body=commands.AmendBooking,
        example={"quantity": 2},
    ),
    _booking_action(
        "cancel",
        "cancelBooking",
        "Cancel a booking",
        SELLERS,
        body=commands.CancelBooking,
        example={"reason": "plans changed"},
    ),
    _booking_action(
        "payments",
        "recordPayment",
        "Record a payment",
        PAYERS,
        body=commands.RecordPayment,
        response=answers.PaymentAnswer,
        example={"amount": 2400, "currency": "EUR", "method": "card"},
    ),
    _booking_action(
        "refunds",
        "requestRefund",
        "Request a refund",
        PAYERS,
        body=commands.RequestRefund,
        response=answers.RefundAnswer,
        example={"amount": 1200, "currency": "EUR", "reason": "one night unused"},
    ),
    _booking_action(
        "check-in", "checkIn", "Check a booking in", roles(OPERATIONS, GATE_DEVICE, ADMIN)
    ),
    _booking_action(
        "check-out", "checkOut", "Check a booking out", roles(OPERATIONS, GATE_DEVICE, ADMIN)
    ),
    _booking_action(
        "no-show", "recordNoShow", "Record that the guest did not come", roles(OPERATIONS, ADMIN)
    ),
    Command(
        route="/bookings/{booking_id:uuid}/refunds/{refund_id}/settle",
        method="POST",
        endpoint=Endpoint(
            summary="Settle a pending refund (succeeded or failed)",
            tag="bookings",
            roles=roles(FINANCE, ADMIN),
            body=commands.SettleRefund,
            response=answers.RefundAnswer,
            idempotent=True,
            operation_id="settleRefund",
            example={"succeeded": True},
        ),
        resource=SettleRefundResource,
    ),
    Command(
        route="/facilities/{facility_id:uuid}/gates",
        method="POST",
        endpoint=Endpoint(
            summary="Add a gate (a lane with a camera and a barrier) to a facility",
            tag="gates",
            roles=MANAGERS,
            body=gates.AddGate,
            response=gates.Gate,
            status=201,
            idempotent=True,
            operation_id="addGate",
            example={"name": "North entry", "direction": "entry"},
        ),
        resource=GatesResource,
    ),
    Command(
        route="/gates/{gate_id:uuid}/cameras",
        method="POST",
        endpoint=Endpoint(
            summary="Register a new camera on a gate; answers its signing secret, once",
            tag="gates",
            roles=MANAGERS,
            body=gates.RegisterCamera,
            response=gates.Camera,
            status=201,
            operation_id="registerCamera",
            example={"camera_id": "cam-north-1"},
        ),
        resource=CamerasResource,
    ),
    Command(
        route="/gates/{gate_id:uuid}/reads",
        method="POST",
        endpoint=Endpoint(
            summary="Report a plate read; answers open or deny, the booking and the reason",
            tag="gates",
            roles=roles(GATE_DEVICE, ADMIN),
            body=gates.PlateReadBody,
            response=gates.GateDecision,
            errors=(401, 403, 404, 422),
            operation_id="reportPlateRead",
            example={
                "read_id": "read-0001",
                "camera_id": "cam-north-1",
                "plate": "AB12CDE",
                "confidence": 0.97,
                "captured_at": "2030-06-01T09:00:00+00:00",
            },
        ),
        resource=PlateReadsResource,
    ),
    Command(
        route="/pools/{pool_id:uuid}/overstay-tariff",
        method="PUT",
        endpoint=Endpoint(
            summary="Set a pool's overstay charge per started hour",
            tag="gates",
            roles=MANAGERS,
            body=gates.OverstayTariff,
            response=answers.Pool,
            idempotent=True,
            operation_id="setOverstayTariff",
            example={"hourly": 300},
        ),
        resource=OverstayTariffResource,
    ),
    Command(
        route="/reads/{read_id}/resolve",
        method="POST",
        endpoint=Endpoint(
            summary="Resolve an unmatched plate read by hand: match it to a booking, or dismiss it",
            tag="gates",
            roles=MANAGERS,
            body=gates.ResolveRead,
            response=gates.Resolved,
            idempotent=True,
            operation_id="resolveRead",
            example={"booking_id": AN_ID, "note": "plate misread at the barrier"},
        ),
        resource=ResolveReadResource,
    ),
    Command(
        route="/facilities/{facility_id:uuid}/reads/{read_id}/resolve",
        method="POST",
        endpoint=Endpoint(
            summary="Resolve an unmatched plate read by hand: match it to a booking, or dismiss it",
            tag="gates",
            roles=MANAGERS,
            body=gates.ResolveRead,
            response=gates.Resolved,
            idempotent=True,
            operation_id="resolveReadAtFacility",
            example={"booking_id": None, "note": "not a customer"},
        ),
        resource=ResolveReadResource,
    ),
    Command(
        route="/facilities/{facility_id:uuid}/cameras/{camera_id}/move",
        method="POST",
        endpoint=Endpoint(
            summary="Move a camera to another gate of its facility (recorded as an event)",
            tag="gates",
            roles=MANAGERS,
            body=gates.MoveCamera,
            response=gates.CameraPlacement,
            idempotent=True,
            operation_id="moveCamera",
            example={"gate_id": AN_ID},
        ),
        resource=MoveCameraResource,
    ),
    Command(
        route="/facilities/{facility_id:uuid}/cameras/{camera_id}/rekey",
        method="POST",
        endpoint=Endpoint(
            summary="Give a camera a new signing secret, answered once; the previous one"
            " is still accepted for grace_seconds (default BERTH_CAMERA_SECRET_GRACE_SECONDS;"
            " 0 revokes it at once)",
            tag="gates",
            roles=MANAGERS,
            body=gates.RekeyCamera,
            response=gates.RekeyedCamera,
            operation_id="rekeyCamera",
            example={},
        ),
        resource=RekeyCameraResource,
    ),
    Command(
        route="/projections/{projection}/skips",
        method="POST",
        endpoint=Endpoint(
            summary="Record that a projection passes over the event at a position",
            tag="operations",
            roles=roles(ADMIN),
            body=projections.SkipEvent,
            response=projections.Skipped,
            status=201,
            errors=(404, 409),
            operation_id="skipProjectionEvent",
            example={"position": 1234, "reason": "event written by a bug fixed in 0.4"},
        ),
        resource=ProjectionSkipsResource,
    ),
    Command(
        route="/projections/{projection}/retries",
        method="POST",
        endpoint=Endpoint(
            summary="Clear a projection's failure at a position: its worker tries again now",
            tag="operations",
            roles=roles(ADMIN),
            body=projections.RetryEvent,
            response=projections.Retried,
            errors=(404,),
            operation_id="retryProjectionEvent",
            example={"position": 1234},
        ),
        resource=ProjectionRetriesResource,
    ),
    Command(
        route="/facilities/{facility_id:uuid}/days/{business_date}/close",
        method="POST",
        endpoint=Endpoint(
            summary="Night audit: close a facility's business day, moving its nights to revenue",
            tag="ledger",
            roles=roles(OPERATIONS, ADMIN),
            body=Empty,
            response=ledger_schemas.BusinessDayAnswer,
            status=201,
            idempotent=True,
            errors=(404, 409),
            operation_id="closeDay",
            example={},
        ),
        resource=CloseDayResource,
    ),
    Command(
        route="/pools/{pool_id:uuid}/tax-rate",
        method="POST",
        endpoint=Endpoint(
            summary="Set the tax rate included in a pool's prices from now on",
            tag="ledger",
            roles=roles(FINANCE, ADMIN),
            body=ledger_schemas.SetTaxRate,
            response=ledger_schemas.TaxRateAnswer,
            idempotent=True,
            operation_id="setTaxRate",
            example={"rate_bp": 2000},
        ),
        resource=TaxRateResource,
    ),
    Command(
        route="/ledger/entries/{entry_id:uuid}/reverse",
        method="POST",
        endpoint=Endpoint(
            summary="Reverse a journal entry: the ledger posts a new entry negating it",
            tag="ledger",
            roles=roles(FINANCE, ADMIN),
            body=ledger_schemas.ReverseEntry,
            response=ledger_schemas.ReversalAnswer,
            status=201,
            idempotent=True,
            operation_id="reverseEntry",
            example={"reason": "posted to the wrong booking"},
        ),
        resource=ReverseEntryResource,
    ),
    Command(
        route="/apikeys",
        method="POST",
        endpoint=Endpoint(
            summary="Create an API key; its token is in this answer only",
            tag="apikeys",
            roles=ADMINS,
            body=key_schemas.CreateKey,
            response=key_schemas.KeyWithToken,
            status=201,
            operation_id="createApiKey",
            example={"role": "booking", "scope": "web", "label": "own brand website"},
        ),
        resource=CreateKeyResource,
    ),
    Command(
        route="/apikeys/{key_id}/revoke",
        method="POST",
        endpoint=Endpoint(
            summary="Revoke an API key: refused everywhere within BERTH_KEY_CACHE_SECONDS",
            tag="apikeys",
            roles=ADMINS,
            body=Empty,
            response=key_schemas.Key,
            errors=(404,),
            operation_id="revokeApiKey",
            example={},
        ),
        resource=RevokeKeyResource,
    ),
    Command(
        route="/apikeys/{key_id}/rotate",
        method="POST",
        endpoint=Endpoint(
            summary="Give an API key a new secret (same id, role and scope); the old token"
            " is refused within BERTH_KEY_CACHE_SECONDS. The new token is in this answer only",
            tag="apikeys",
            roles=ADMINS,
            body=Empty,
            response=key_schemas.KeyWithToken,
            errors=(404, 409),
            operation_id="rotateApiKey",
            example={},
        ),
        resource=RotateKeyResource,
    ),
    Command(
        route="/webhooks/{subscription_id:uuid}/secret",
        method="POST",
        endpoint=Endpoint(
            summary="Give a webhook subscription a new signing secret (in this answer only);"
            " the one before also signs every delivery for `grace_seconds` (default 24 h)",
            tag="webhooks",
            roles=SUBSCRIBERS,
            body=webhook_schemas.RotateWebhookSecret,
            response=webhook_schemas.WebhookWithSecret,
            errors=(404,),
            operation_id="rotateWebhookSecret",
            example={"grace_seconds": 86400},
        ),
        resource=RotateSecretResource,
    ),
    Command(
        route="/pools/{pool_id:uuid}/rate-plans",
        method="POST",
        endpoint=Endpoint(
            summary="Create a rate plan for a pool (its prices, stay rules and channels)",
            tag="rate plans",
            roles=MANAGERS,
            body=rate_plans.CreateRatePlan,
            response=rate_plans.RatePlan,
            status=201,
            idempotent=True,
            operation_id="createRatePlan",
            example={"code": "flex", "name": "Flexible", "base_price": 1500},
        ),
        resource=CreateRatePlanResource,
    ),
    Command(
        route="/pools/{pool_id:uuid}/rate-plans/{code}",
        method="PUT",
        endpoint=Endpoint(
            summary="Replace a rate plan's terms (bookings keep the prices they were sold at)",
            tag="rate plans",
            roles=MANAGERS,
            body=rate_plans.RatePlanTerms,
            response=rate_plans.RatePlan,
            conditional=True,
            idempotent=True,
            operation_id="changeRatePlan",
            example={"name": "Flexible", "base_price": 1600},
        ),
        resource=ChangeRatePlanResource,
    ),
    Command(
        route="/pools/{pool_id:uuid}/rate-plans/{code}/retire",
        method="POST",
        endpoint=Endpoint(
            summary="Retire a rate plan: no longer sold; its bookings keep their prices",
            tag="rate plans",
            roles=MANAGERS,
            body=Empty,
            response=rate_plans.RatePlan,
            conditional=True,
            idempotent=True,
            operation_id="retireRatePlan",
            example={},
        ),
        resource=RetireRatePlanResource,
    ),
)
