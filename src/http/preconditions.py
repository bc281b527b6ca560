"""If-Match and ETag: a resource's ETag is its version; If-Match makes a command conditional."""

from __future__ import annotations

import re

import falcon

from berth.http.problems import Problem

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


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
