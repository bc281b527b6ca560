"""Every error answer is application/problem+json (RFC 9457) with a stable `type`.

Named domain errors are mapped to statuses here, in one place; their `code`
becomes the problem type. Anything unexpected is logged and answered with a
generic 500 that says nothing about the inside.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import eventsourcing.persistence
import falcon
import psycopg
from marshmallow import ValidationError

from berth.domain.commanding import StaleVersion
from berth.domain.error import DomainError, InvalidCommand, NotFound, ReusedIdentifier

TYPE_BASE = "https://berth.dev/problems/"
CONTENT_TYPE = "application/problem+json"

log = logging.getLogger("berth.http")

# Problem types of the errors Falcon raises itself (routing, methods, headers).
_FALCON_TYPES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    412: "precondition-failed",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    500: "internal-error",
    503: "unavailable",
}


def problem_type(code: str) -> str:
    return TYPE_BASE + code


class Problem(falcon.HTTPError):
    """An HTTP error with a stable problem type and optional extension members."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status, title=title, description=detail, headers=headers)
        self.code_name = code
        self.extensions = extensions


def domain_status(error: DomainError) -> int:
    if isinstance(error, StaleVersion):
        return 412
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidCommand):
        return 400
    if isinstance(error, ReusedIdentifier):
        return 422
    return 409


def _title(code: str) -> str:
    return code.replace("-", " ").capitalize()


def handle_domain_error(
    req: falcon.Request, resp: falcon.Response, error: DomainError, params: dict[str, Any]
) -> None:
    # Members a refusal adds to its answer (price-changed: the new total).
    extensions: dict[str, Any] = getattr(error, "problem_extensions", dict)()
    raise Problem(domain_status(error), error.code, _title(error.code), str(error), **extensions)


def handle_validation_error(
    req: falcon.Request, resp: falcon.Response, error: ValidationError, params: dict[str, Any]
) -> None:
    raise Problem(
        400,
        "invalid-request",
        "Invalid request",
        "the request has invalid or unknown fields; see `errors`",
        errors=error.normalized_messages(),  # type: ignore[no-untyped-call]
    )


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    log.exception(
        "unhandled error on %s %s (request %s)",
        req.method,
        req.path,
        getattr(req.context, "request_id", "-"),
    )
    raise Problem(500, "internal-error", "Internal error", "the server failed; it was logged")


# Seconds a client is told to wait after `database-unavailable`: about what the pools
# take to notice a recovered server and connect again.
DATABASE_RETRY_AFTER = "2"


def handle_database_unavailable(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    """PostgreSQL down, unreachable, restarting or too slow: 503 at once, never 500.

    psycopg raises OperationalError (and psycopg_pool's PoolTimeout is one) for a
    lost or refused connection and for a statement or lock timeout; eventsourcing
    wraps it in its own OperationalError. A command that committed is not answered
    here (its after-commit steps tolerate a lost connection); only a connection lost
    during COMMIT itself leaves the outcome unknown, which an Idempotency-Key retry
    resolves.
    """
    log.warning(
        "database unavailable on %s %s (request %s): %s",
        req.method,
        req.path,
        getattr(req.context, "request_id", "-"),
        error,
    )
    raise Problem(
        503,
        "database-unavailable",
        "Database unavailable",
        "the database did not answer in time; retry later (with the same Idempotency-Key)",
        headers={"Retry-After": DATABASE_RETRY_AFTER},
    )


def serialize(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Falcon's error serializer: every HTTPError as problem+json."""
    status = error.status_code
    if isinstance(error, Problem):
        code, extensions = error.code_name, error.extensions
    else:
        code, extensions = _FALCON_TYPES.get(status, f"http-{status}"), {}
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": error.title or _title(code),
        "status": status,
    }
    if error.description:
        body["detail"] = error.description
    body["instance"] = req.path
    request_id = getattr(req.context, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    resp.content_type = CONTENT_TYPE
    resp.data = json.dumps(body).encode()


def register(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(DomainError, handle_domain_error)
    app.add_error_handler(ValidationError, handle_validation_error)
    app.add_error_handler(psycopg.OperationalError, handle_database_unavailable)
    app.add_error_handler(eventsourcing.persistence.OperationalError, handle_database_unavailable)
    app.set_error_serializer(serialize)
