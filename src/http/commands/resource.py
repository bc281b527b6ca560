"""The one base of command resources: their collaborators and the Endpoint the table gives them.

A command resource does not declare its own `Endpoint`: `berth.http.commands.table`
does, once, with its route and method, and hands it in here, so the middleware
(authentication, payloads, preconditions) and the OpenAPI document read the same
declaration the resource is served under.
"""

from __future__ import annotations

from dataclasses import dataclass

from berth.http.commands.execution import CommandRunner
from berth.http.endpoint import Endpoint
from berth.http.settings import Services, Settings


@dataclass(frozen=True)
class Wiring:
    """What every command resource is built from."""

    services: Services
    settings: Settings
    runner: CommandRunner


class CommandResource:
    def __init__(self, wiring: Wiring, method: str, endpoint: Endpoint) -> None:
        self.services = wiring.services
        self.settings = wiring.settings
        self.app = wiring.services.reservations
        self.runner = wiring.runner
        self.endpoints = {method: endpoint}
