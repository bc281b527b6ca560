"""The Falcon app: routes, middleware and error handling, wired from what it is handed."""

from __future__ import annotations

from typing import Any

import falcon

from berth.http import openapi, problems
from berth.http.auth import Authenticate
from berth.http.commands.apikeys import apikey_routes
from berth.http.commands.bookings import (
    ACTIONS,
    BookingActionResource,
    HoldResource,
    SettleRefundResource,
)
from berth.http.commands.execution import CommandRunner
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
from berth.http.commands.mail import mail_routes
from berth.http.commands.plate_reads import PlateReadsResource
from berth.http.commands.projections import ProjectionRetriesResource, ProjectionSkipsResource
from berth.http.commands.rate_plans import (
    ChangeRatePlanResource,
    CreateRatePlanResource,
    RetireRatePlanResource,
)
from berth.http.commands.webhooks import webhook_routes
from berth.http.docs import add_docs
from berth.http.endpoint import Endpoint
from berth.http.header_limits import HeaderLimits
from berth.http.metrics import MetricsResource
from berth.http.observe import Observe
from berth.http.payloads import LoadPayloads
from berth.http.queries.apikey import KeyResource
from berth.http.queries.audit import audit_routes
from berth.http.queries.availability import AvailabilityResource
from berth.http.queries.bookings import (
    BookingListResource,
    BookingResource,
    arrivals,
    departures,
)
from berth.http.queries.catalogue import catalogue_routes
from berth.http.queries.health import HealthResource, ProjectionsResource
from berth.http.queries.ledger import (
    BalancesResource,
    JournalCsvResource,
    JournalResource,
    RevenueResource,
    StatementResource,
)
from berth.http.queries.occupancy import OccupancyResource, UnmatchedReadsResource
from berth.http.queries.rate_plans import QuotesResource, RatePlanListResource, RatePlanResource
from berth.http.request_ids import RequestIds
from berth.http.settings import Services, Settings
from berth.http.versioning import CURRENT, ApiVersion


class ByMethod:
    """One path served by a resource per method (POST /bookings holds, GET lists)."""

    def __init__(self, **resources: Any) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        for method, resource in resources.items():
            self.endpoints[method] = resource.endpoints[method]
            responder = f"on_{method.lower()}"
            setattr(self, responder, getattr(resource, responder))


def routes(services: Services, settings: Settings) -> list[tuple[str, Any]]:
    runner = CommandRunner(services, settings)
    table: list[tuple[str, Any]] = [
        ("/facilities", FacilitiesResource(services, runner)),
        ("/facilities/{facility_id:uuid}/pools", PoolsResource(services, runner)),
        ("/facilities/{facility_id:uuid}/arrivals", arrivals(services, settings)),
        ("/facilities/{facility_id:uuid}/departures", departures(services, settings)),
        ("/pools/{pool_id:uuid}/capacity", CapacityResource(services, runner)),
        (
            "/bookings",
            ByMethod(
                POST=HoldResource(services, runner),
                GET=BookingListResource(services, settings),
            ),
        ),
        ("/bookings/{booking_id:uuid}", BookingResource(services, settings)),
    ]
    table += [
        (f"/bookings/{{booking_id:uuid}}/{name}", BookingActionResource(services, runner, action))
        for name, action in ACTIONS.items()
    ]
    table += [
        (
            "/bookings/{booking_id:uuid}/refunds/{refund_id}/settle",
            SettleRefundResource(services, runner),
        ),
        ("/facilities/{facility_id:uuid}/gates", GatesResource(services, runner)),
        ("/facilities/{facility_id:uuid}/occupancy", OccupancyResource(services, settings)),
        (
            "/facilities/{facility_id:uuid}/unmatched-reads",
            UnmatchedReadsResource(services, settings),
        ),
        ("/gates/{gate_id:uuid}/cameras", CamerasResource(services, runner)),
        ("/gates/{gate_id:uuid}/reads", PlateReadsResource(services, settings)),
        ("/pools/{pool_id:uuid}/overstay-tariff", OverstayTariffResource(services, runner)),
        ("/reads/{read_id}/resolve", ResolveReadResource(services, runner)),
        (
            "/facilities/{facility_id:uuid}/reads/{read_id}/resolve",
            ResolveReadResource(services, runner),
        ),
        (
            "/facilities/{facility_id:uuid}/cameras/{camera_id}/move",
            MoveCameraResource(services, runner),
        ),
        (
            "/facilities/{facility_id:uuid}/cameras/{camera_id}/rekey",
            RekeyCameraResource(services, runner, settings),
        ),
        ("/availability", AvailabilityResource(services, settings)),
        ("/health", HealthResource(services, settings)),
        ("/projections", ProjectionsResource(services, settings)),
        ("/projections/{projection}/skips", ProjectionSkipsResource(services)),
        ("/projections/{projection}/retries", ProjectionRetriesResource(services)),
    ]
    table += ledger_routes(services, settings, runner)
    table += pricing_routes(services, settings, runner)
    table += audit_routes(services)
    table += apikey_routes(services)
    table.append(("/apikeys/{key_id}", KeyResource(services)))
    table += mail_routes(services)
    table += webhook_routes(services, settings)
    return with_reads(table, catalogue_routes(services, settings))


def with_reads(table: list[tuple[str, Any]], reads: dict[str, Any]) -> list[tuple[str, Any]]:
    """The routes of `table` with GETs added: one resource per method where a path has both."""
    merged = []
    for template, resource in table:
        read = reads.pop(template, None)
        both = ByMethod(GET=read, **{m: resource for m in resource.endpoints}) if read else None
        merged.append((template, both or resource))
    return merged + list(reads.items())


def ledger_routes(
    services: Services, settings: Settings, runner: CommandRunner
) -> list[tuple[str, Any]]:
    return [
        (
            "/facilities/{facility_id:uuid}/days/{business_date}/close",
            CloseDayResource(services, runner),
        ),
        ("/pools/{pool_id:uuid}/tax-rate", TaxRateResource(services, runner)),
        ("/ledger/entries/{entry_id:uuid}/reverse", ReverseEntryResource(services, runner)),
        ("/ledger/accounts", BalancesResource(services, settings, trial=False)),
        ("/ledger/trial-balance", BalancesResource(services, settings, trial=True)),
        ("/ledger/journal", JournalResource(services, settings)),
        ("/ledger/journal.csv", JournalCsvResource(services, settings)),
        ("/ledger/bookings/{booking_id:uuid}/statement", StatementResource(services, settings)),
        ("/ledger/revenue", RevenueResource(services, settings)),
    ]


def pricing_routes(
    services: Services, settings: Settings, runner: CommandRunner
) -> list[tuple[str, Any]]:
    return [
        (
            "/pools/{pool_id:uuid}/rate-plans",
            ByMethod(
                POST=CreateRatePlanResource(services, runner),
                GET=RatePlanListResource(services, settings),
            ),
        ),
        (
            "/pools/{pool_id:uuid}/rate-plans/{code}",
            ByMethod(
                PUT=ChangeRatePlanResource(services, runner),
                GET=RatePlanResource(services, settings),
            ),
        ),
        (
            "/pools/{pool_id:uuid}/rate-plans/{code}/retire",
            RetireRatePlanResource(services, runner),
        ),
        ("/quotes", QuotesResource(services, settings)),
    ]


def create_app(
    settings: Settings, services: Services
) -> falcon.App[falcon.Request, falcon.Response]:
    middleware: list[Any] = [RequestIds(), Authenticate(services, settings), LoadPayloads(settings)]
    middleware.insert(0, HeaderLimits())
    middleware.insert(1, ApiVersion())
    middleware.insert(4, Observe(services.pool))  # after the ids and the caller
    app = falcon.App(middleware=middleware)
    problems.register(app)
    table = routes(services, settings)
    document = openapi.OpenApiResource()
    table.append(("/openapi.json", document))
    for template, resource in table:
        app.add_route(template, resource)
    document.document = openapi.build(table, version=CURRENT)
    add_docs(app)
    app.add_route("/metrics", MetricsResource(services))  # no key, not in the API document
    return app
