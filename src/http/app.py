"""The Falcon app: routes, middleware and error handling, wired from what it is handed."""

from __future__ import annotations

from typing import Any

import falcon

from berth.http import openapi, problems
from berth.http.auth import Authenticate
from berth.http.commands.apikeys import KeysResource
from berth.http.commands.execution import CommandRunner
from berth.http.commands.mail import mail_routes
from berth.http.commands.resource import Wiring
from berth.http.commands.table import COMMANDS
from berth.http.commands.webhooks import webhook_routes
from berth.http.docs import add_docs
from berth.http.endpoint import Endpoint
from berth.http.header_limits import HeaderLimits
from berth.http.metrics import MetricsResource
from berth.http.observe import Observe
from berth.http.payloads import LoadPayloads
from berth.http.preconditions import Preconditions
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
from berth.http.queries.health import (
    HealthResource,
    ProjectionHealthResource,
    ProjectionsResource,
)
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
    """The queries' routes, then the command table's; a path with both is served ByMethod."""
    wiring = Wiring(services, settings, CommandRunner(services, settings))
    served: dict[str, dict[str, Any]] = {}
    for template, resource in query_routes(services, settings):
        served.setdefault(template, {}).update(dict.fromkeys(resource.endpoints, resource))
    for command in COMMANDS:
        served.setdefault(command.route, {})[command.method] = command.build(wiring)
    table: list[tuple[str, Any]] = []
    for template, by_method in served.items():
        resources = set(map(id, by_method.values()))
        resource = next(iter(by_method.values()))
        table.append((template, resource if len(resources) == 1 else ByMethod(**by_method)))
    return table


def query_routes(services: Services, settings: Settings) -> list[tuple[str, Any]]:
    return [
        ("/facilities/{facility_id:uuid}/arrivals", arrivals(services, settings)),
        ("/facilities/{facility_id:uuid}/departures", departures(services, settings)),
        ("/bookings", BookingListResource(services, settings)),
        ("/bookings/{booking_id:uuid}", BookingResource(services, settings)),
        ("/facilities/{facility_id:uuid}/occupancy", OccupancyResource(services, settings)),
        (
            "/facilities/{facility_id:uuid}/unmatched-reads",
            UnmatchedReadsResource(services, settings),
        ),
        ("/availability", AvailabilityResource(services, settings)),
        ("/health", HealthResource(services, settings)),
        ("/health/projections", ProjectionHealthResource(services, settings)),
        ("/projections", ProjectionsResource(services, settings)),
        ("/ledger/accounts", BalancesResource(services, settings, trial=False)),
        ("/ledger/trial-balance", BalancesResource(services, settings, trial=True)),
        ("/ledger/journal", JournalResource(services, settings)),
        ("/ledger/journal.csv", JournalCsvResource(services, settings)),
        ("/ledger/bookings/{booking_id:uuid}/statement", StatementResource(services, settings)),
        ("/ledger/revenue", RevenueResource(services, settings)),
        *audit_routes(services),
        ("/apikeys", KeysResource(services)),
        ("/apikeys/{key_id}", KeyResource(services)),
        *pricing_routes(services, settings),
        *mail_routes(services),
        *webhook_routes(services, settings),
        *catalogue_routes(services, settings).items(),
    ]


def pricing_routes(services: Services, settings: Settings) -> list[tuple[str, Any]]:
    """The rate plans' and quotes' reads (their commands are in the command table)."""
    return [
        ("/pools/{pool_id:uuid}/rate-plans", RatePlanListResource(services, settings)),
        ("/pools/{pool_id:uuid}/rate-plans/{code}", RatePlanResource(services, settings)),
        ("/quotes", QuotesResource(services, settings)),
    ]


def create_app(
    settings: Settings, services: Services
) -> falcon.App[falcon.Request, falcon.Response]:
    middleware: list[Any] = [
        RequestIds(),
        Authenticate(services, settings),
        LoadPayloads(settings),
        Preconditions(),
    ]
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
