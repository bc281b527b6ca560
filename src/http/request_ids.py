"""X-Request-Id and X-Correlation-Id: taken from the client when sane, made up when absent."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import falcon

from berth.http.problems import Problem

REQUEST_ID = "X-Request-Id"
CORRELATION_ID = "X-Correlation-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def _header(req: falcon.Request, name: str) -> str | None:
    value = req.get_header(name)
    if value is None:
        return None
    if not _SANE.match(value):
        raise Problem(
            400,
            "invalid-header",
            "Invalid header",
            f"{name} must be 1 to 128 letters, digits or ._:/+=-",
        )
    return value


class RequestIds:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.request_id = str(uuid4())
        req.context.request_id = _header(req, REQUEST_ID) or req.context.request_id
        req.context.correlation_id = _header(req, CORRELATION_ID) or req.context.request_id

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        request_id = getattr(req.context, "request_id", None)
        if request_id:
            resp.set_header(REQUEST_ID, request_id)
            resp.set_header(CORRELATION_ID, getattr(req.context, "correlation_id", request_id))
