"""The command table is the one declaration of every command endpoint: what the server
enforces (If-Match, Idempotency-Key) and what the OpenAPI document says are read from
it, so walking it proves the two agree for every command, present and future."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

import pytest
from http_support import Api, World, hold, problem_type

from berth.http import Services, Settings
from berth.http.app import routes
from berth.http.commands.table import COMMANDS, Command
from berth.http.openapi import openapi_path

CONDITIONAL = [c for c in COMMANDS if c.endpoint.conditional]
UNCONDITIONAL = [c for c in COMMANDS if not c.endpoint.conditional]
IDEMPOTENT = [c for c in COMMANDS if c.endpoint.idempotent]


def _name(command: Command) -> str:
    return f"{command.method} {command.route}"


def _path(route: str, values: dict[str, str]) -> str:
    """The route with each parameter filled: from `values`, else a fresh id."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), str(uuid4())), route)


def _send(api: Api, command: Command, path: str, headers: dict[str, str]) -> Any:
    send = api.put if command.method == "PUT" else api.post
    return send(path, command.endpoint.example, who="admin", headers=headers)


def _operation(document: dict[str, Any], command: Command) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][openapi_path(command.route)][
        command.method.lower()
    ]
    return operation


def test_there_are_commands_of_every_kind():
    assert CONDITIONAL and UNCONDITIONAL and IDEMPOTENT


def test_every_command_is_served_by_a_responder_for_its_method(
    services: Services, settings: Settings
):
    served = dict(routes(services, settings))
    for command in COMMANDS:
        resource = served[command.route]
        assert resource.endpoints[command.method] is command.endpoint, _name(command)
        assert callable(getattr(resource, f"on_{command.method.lower()}", None)), _name(command)


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_the_document_declares_each_command_as_the_table_does(api: Api, command: Command):
    document = api.get("/openapi.json", who=None).json
    operation = _operation(document, command)
    endpoint = command.endpoint
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}

    assert operation["operationId"] == endpoint.operation_id
    assert operation["x-berth-roles"] == sorted(endpoint.roles)
    assert operation["requestBody"]["required"] is True
    media = operation["requestBody"]["content"]["application/json"]
    assert media["example"] == endpoint.example
    assert ("If-Match" in headers) is endpoint.conditional
    assert ("412" in operation["responses"]) is endpoint.conditional
    assert ("Idempotency-Key" in headers) is endpoint.idempotent
    assert str(endpoint.status) in operation["responses"]


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_every_example_is_a_body_the_command_accepts(command: Command):
    assert command.endpoint.body is not None
    assert command.endpoint.example is not None
    command.endpoint.body().load(command.endpoint.example)  # raises if invalid


def test_every_operation_has_its_own_operation_id(api: Api):
    document = api.get("/openapi.json", who=None).json
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9]+", name) for name in ids), ids


@pytest.mark.parametrize("command", CONDITIONAL, ids=_name)
def test_a_wrong_if_match_is_refused_with_412_and_changes_nothing(
    api: Api, world: World, services: Services, command: Command
):
    booking = hold(api, world)
    app = services.reservations
    plan = _a_rate_plan(api, world)
    path = _path(
        command.route, {"booking_id": booking["id"], "pool_id": world.pool_id, "code": plan}
    )

    def versions() -> dict[str, int]:
        return {
            "booking": app.bookings.booking(UUID(booking["id"])).version,
            "pool": app.catalogue.pool(UUID(world.pool_id)).version,
            "plan": app.pricing.rate_plan(UUID(world.pool_id), plan).version,
        }

    before = versions()

    refused = _send(api, command, path, {"If-Match": '"999"'})

    assert refused.status_code == 412, refused.text
    assert problem_type(refused) == "stale-version"
    assert versions() == before


def _a_rate_plan(api: Api, world: World) -> str:
    """The code of a rate plan of the world's pool (for the commands on one)."""
    body = {"code": "table", "name": "Table", "base_price": 1500}
    created = api.post(f"/pools/{world.pool_id}/rate-plans", body, who="admin")
    assert created.status_code == 201, created.text
    return "table"


@pytest.mark.parametrize("command", UNCONDITIONAL, ids=_name)
def test_a_command_that_is_not_conditional_refuses_if_match(
    api: Api, world: World, command: Command
):
    path = _path(command.route, {"facility_id": world.facility_id, "pool_id": world.pool_id})

    refused = _send(api, command, path, {"If-Match": '"1"'})

    assert refused.status_code == 400, refused.text
    assert problem_type(refused) == "if-match-not-supported"


@pytest.mark.parametrize("command", IDEMPOTENT, ids=_name)
def test_an_idempotent_command_refuses_a_malformed_idempotency_key(
    api: Api, world: World, command: Command
):
    path = _path(command.route, {"facility_id": world.facility_id, "pool_id": world.pool_id})

    refused = _send(api, command, path, {"Idempotency-Key": "has spaces"})

    assert refused.status_code == 400, refused.text
    assert problem_type(refused) == "invalid-header"
