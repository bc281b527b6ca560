"""The OpenAPI 3 document, generated from every route's Endpoint and marshmallow schemas."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import falcon
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from berth.http.endpoint import PUBLIC, Endpoint
from berth.http.schemas import answers

_CONVERTER = re.compile(r"\{(\w+)(?::\w+)?\}")
_ERRORS = {
    400: "Invalid input: malformed JSON, unknown or wrong fields, impossible values",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role may not call this endpoint",
    404: "Not found, or not visible to this key",
    409: "Refused by a business rule, or an Idempotency-Key still in flight",
    412: "If-Match names a version that is no longer current",
    413: "Body too large",
    415: "The body is not application/json",
    422: "The Idempotency-Key was used for a different request",
    503: "The database is unavailable (`database-unavailable`, with Retry-After), or a"
    " projection did not reach `min_position` in time",
}


def openapi_path(template: str) -> str:
    return _CONVERTER.sub(r"{\1}", template)


def _parameters(template: str, endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name, converter in re.findall(r"\{(\w+)(?::(\w+))?\}", template):
        schema = {"type": "string", "format": "uuid"} if converter == "uuid" else {"type": "string"}
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
    if endpoint.query().fields:
        parameters.append({"in": "query", "schema": endpoint.query})
    if endpoint.conditional:
        parameters.append(
            {
                "in": "header",
                "name": "If-Match",
                "schema": {"type": "string"},
                "description": 'the ETag (version) the command expects, e.g. "3"',
            }
        )
    if endpoint.idempotent:
        parameters.append(
            {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string", "maxLength": 255},
                "description": "a retry with the same key returns the first answer (24 h)",
            }
        )
    return parameters


def _errors(endpoint: Endpoint) -> list[int]:
    codes = set(endpoint.errors)
    if not endpoint.public:
        codes |= {400, 401, 403, 503}  # 503: the key is looked up in the database
    if endpoint.body is not None:
        codes |= {400, 404, 409, 413, 415}
    if endpoint.conditional:
        codes.add(412)
    if endpoint.idempotent:
        codes |= {409, 422}
    if "min_position" in endpoint.query().fields:
        codes |= {400, 404, 503}
    return sorted(codes)


def _operation(template: str, method: str, endpoint: Endpoint) -> dict[str, Any]:
    success: dict[str, Any] = {"description": endpoint.summary}
    if endpoint.response is not None:
        success["content"] = {"application/json": {"schema": endpoint.response}}
    responses: dict[str, Any] = {str(endpoint.status): success}
    for code in _errors(endpoint):
        responses[str(code)] = {
            "description": _ERRORS.get(code, "Error"),
            "content": {"application/problem+json": {"schema": "Problem"}},
        }
    operation: dict[str, Any] = {
        "operationId": operation_id(template, method, endpoint),
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": _parameters(template, endpoint),
        "responses": responses,
        "security": [] if endpoint.public else [{"apiKey": []}],
    }
    if endpoint.roles:
        operation["description"] = "Roles: " + ", ".join(sorted(endpoint.roles))
        operation["x-berth-roles"] = sorted(endpoint.roles)
    if endpoint.body is not None:
        media: dict[str, Any] = {"schema": endpoint.body}
        if endpoint.example is not None:
            media["example"] = endpoint.example
        # An empty body is read as {}; a command is still documented as taking one.
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    return operation


def operation_id(template: str, method: str, endpoint: Endpoint) -> str:
    """The endpoint's own, or `get` plus the path's words: GET /ledger/journal.csv is
    `getLedgerJournalCsv`, and a parameter reads `By` its name (`getBookingsByBookingId`)."""
    if endpoint.operation_id:
        return endpoint.operation_id
    words = [method.lower()]
    for part in openapi_path(template).strip("/").split("/"):
        if part.startswith("{"):
            words += ["by", *part.strip("{}").split("_")]
        else:
            words += re.split(r"[-_.]", part)
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:] if word)


def build(routes: Sequence[tuple[str, Any]], *, version: str = "0.1.0") -> dict[str, Any]:
    spec = APISpec(
        title="Berth",
        version=version,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Event-sourced reservations: commands write, queries read."},
    )
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", schema=answers.Problem)
    for template, resource in routes:
        endpoints: dict[str, Endpoint] = resource.endpoints
        spec.path(
            path=openapi_path(template),
            operations={
                method.lower(): _operation(template, method, endpoint)
                for method, endpoint in endpoints.items()
            },
        )
    return spec.to_dict()


class OpenApiResource:
    endpoints = {"GET": Endpoint(summary="This OpenAPI document", tag="operations", roles=PUBLIC)}

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document
