"""If-Match and ETag: a resource's ETag is its version; If-Match makes a command conditional.

`Preconditions` is the one place the headers of a command are checked, from its
`Endpoint`: a conditional command gets the version If-Match names in
`req.context.expected_version`; any other command refuses If-Match. An idempotent
command gets its checked Idempotency-Key in `req.context.idempotency_key` (others
ignore the header, and the OpenAPI document does not offer it).
"""

from __future__ import annotations

import re
from typing import Any

import falcon

from berth.http.endpoint import Endpoint
from berth.http.problems import Problem

IDEMPOTENCY_KEY = "Idempotency-Key"
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')
_SANE_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(req: falcon.Request) -> int | None:
    """The version an If-Match header names; None without one (or with `*`)."""
    header = req.get_header("If-Match")
    if header is None or header.strip() == "*":
        return None
    found = _ETAG.match(header.strip())
    if found is None:
        raise Problem(
            400,
            "invalid-if-match",
            "Invalid If-Match",
            'If-Match takes one ETag of this API, such as "3"',
        )
    return int(found.group(1))


def refuse_if_match(req: falcon.Request) -> None:
    """For commands that cannot be made conditional (those that create resources)."""
    if req.get_header("If-Match") is not None:
        raise Problem(
            400,
            "if-match-not-supported",
            "If-Match not supported",
            "this command cannot be made conditional",
        )


def idempotency_key(req: falcon.Request) -> str | None:
    key = req.get_header(IDEMPOTENCY_KEY)
    if key is not None and not _SANE_KEY.match(key):
        raise Problem(
            400,
            "invalid-header",
            "Invalid header",
            f"{IDEMPOTENCY_KEY} must be 1 to 255 printable ASCII characters",
        )
    return key


class Preconditions:
    """Middleware: If-Match and Idempotency-Key of every command, as its Endpoint says."""

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        endpoint: Endpoint | None = getattr(resource, "endpoints", {}).get(req.method)
        if endpoint is None or req.method in ("GET", "HEAD"):
            return
        if endpoint.conditional:
            req.context.expected_version = expected_version(req)
        else:
            refuse_if_match(req)
            req.context.expected_version = None
        req.context.idempotency_key = idempotency_key(req) if endpoint.idempotent else None
