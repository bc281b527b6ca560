"""Refusals as pages: a domain error, a bad form or an HTTP error, with a way back."""

from __future__ import annotations

import logging
from typing import Any

import eventsourcing.persistence
import falcon
import psycopg
from marshmallow import ValidationError

from berth.domain.commanding import StaleVersion
from berth.domain.error import DomainError, InvalidCommand, NotFound
from berth.web.templates import render

log = logging.getLogger("berth.web")


def domain_status(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidCommand):
        return 400
    return 409  # a rule, or StaleVersion: someone else changed it first


def _back(req: falcon.Request) -> str:
    referer = req.get_header("Referer") or ""
    return referer if referer.startswith(req.prefix) else ""


def domain_error(
    req: falcon.Request, resp: falcon.Response, error: DomainError, params: dict[str, Any]
) -> None:
    title = "Changed meanwhile" if isinstance(error, StaleVersion) else "Refused"
    render(
        req,
        resp,
        "error.html",
        status=domain_status(error),
        title=title,
        code=error.code,
        detail=str(error),
        back=_back(req),
    )


def invalid_form(
    req: falcon.Request, resp: falcon.Response, error: ValidationError, params: dict[str, Any]
) -> None:
    messages = error.messages
    detail = "; ".join(
        f"{field}: {' '.join(map(str, text)) if isinstance(text, list) else text}"
        for field, text in (messages.items() if isinstance(messages, dict) else [])
    )
    render(
        req, resp, "error.html", 400, title="Check the form", code="invalid-form",
        detail=detail, back=_back(req),
    )  # fmt: skip


def http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: dict[str, Any]
) -> None:
    headers = error.headers or {}
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
    for name, value in pairs:
        resp.set_header(name, value)
    render(
        req, resp, "error.html", error.status_code, title=error.title or "Error",
        code=f"http-{error.status_code}", detail=error.description or "", back=_back(req),
    )  # fmt: skip


def database_unavailable(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    log.warning("database unavailable on %s %s: %s", req.method, req.path, error)
    resp.set_header("Retry-After", "2")
    render(
        req, resp, "error.html", 503, title="Database unavailable",
        code="database-unavailable", detail="the database did not answer in time; retry",
        back="",
    )  # fmt: skip


def unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    log.exception("unhandled error on %s %s", req.method, req.path)
    render(
        req, resp, "error.html", 500, title="Internal error", code="internal-error",
        detail="the server failed; it was logged", back="",
    )  # fmt: skip


def register(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    app.add_error_handler(Exception, unexpected)
    app.add_error_handler(falcon.HTTPError, http_error)
    app.add_error_handler(DomainError, domain_error)
    app.add_error_handler(ValidationError, invalid_form)
    app.add_error_handler(psycopg.OperationalError, database_unavailable)
    app.add_error_handler(eventsourcing.persistence.OperationalError, database_unavailable)
