"""The OpenAPI document is generated from the schemas and lists every route."""

from __future__ import annotations

from http_support import Api

from berth.http import Services, Settings
from berth.http.app import routes
from berth.http.openapi import openapi_path


def test_every_route_and_method_is_in_the_document(
    api: Api, services: Services, settings: Settings
):
    document = api.get("/openapi.json", who=None).json
    assert document["openapi"].startswith("3.")
    table = [*routes(services, settings), ("/openapi.json", None)]
    for template, resource in table:
        path = openapi_path(template)
        assert path in document["paths"], path
        methods = {"GET"} if resource is None else set(resource.endpoints)
        responders = {m for m in methods if hasattr(resource, f"on_{m.lower()}")} or methods
        assert {m.lower() for m in responders} <= set(document["paths"][path]), path


def test_bodies_and_queries_come_from_the_marshmallow_schemas(api: Api):
    document = api.get("/openapi.json", who=None).json
    hold = document["paths"]["/bookings"]["post"]
    ref = hold["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"pool_id", "arrival", "departure", "guest"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    assert "Idempotency-Key" in {p["name"] for p in hold["parameters"]}
    availability = document["paths"]["/availability"]["get"]
    names = {p["name"] for p in availability["parameters"]}
    assert {"pool_id", "from", "to", "min_position"} <= names
    confirm = document["paths"]["/bookings/{booking_id}/confirm"]["post"]
    assert "If-Match" in {p["name"] for p in confirm["parameters"]}
    assert confirm["responses"]["412"]["content"]["application/problem+json"]
    assert document["paths"]["/health"]["get"]["security"] == []
    assert document["paths"]["/health/projections"]["get"]["security"] == []
    assert hold["security"] == [{"apiKey": []}]
