"""One cursor style for every list: an opaque `cursor`, and `next_cursor` plus a `next` link.

A cursor is the list's own keyset position (a position, an id, a sort key and an
id) in URL-safe base64 of JSON, so clients pass it back untouched and a list may
change what it holds without breaking them. A page's answer carries
`next_cursor` (null on the last page) and `next`, the same request with that
cursor (null on the last page). Lists that took a plain number or id as their
cursor before still take it (`legacy`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import falcon

from berth.http.problems import Problem

MAX_CURSOR = 400  # characters; every key a list pages by fits well within


def encode(key: Any) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> Any:
    """The key a cursor holds; 400 `invalid-cursor` for anything not made by `encode`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid_cursor() from None


def after(cursor: str, *, legacy: Callable[[str], Any], check: Callable[[Any], bool]) -> Any:
    """The key of an opaque cursor passing `check`, or what `legacy` makes of an older one.

    `legacy` parses the plain cursors a list answered before (returning None if it
    is not one); anything else is 400 `invalid-cursor`.
    """
    try:
        key = decode(cursor)
    except Problem:
        key = None
    if key is not None and check(key):
        return key
    found = legacy(cursor)
    if found is None:
        raise invalid_cursor()
    return found


def whole(value: Any, maximum: int = 2**63 - 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def invalid_cursor() -> Problem:
    return Problem(
        400,
        "invalid-cursor",
        "Invalid cursor",
        "pass back a `next_cursor` (or follow `next`) exactly as a page answered it",
    )


def page(req: falcon.Request, key: Any | None) -> dict[str, str | None]:
    """The `next_cursor` and `next` members of a page whose last row has the key `key`."""
    if key is None:
        return {"next_cursor": None, "next": None}
    cursor = encode(key)
    params = {name: value for name, value in req.params.items() if name != "cursor"}
    params["cursor"] = cursor
    return {"next_cursor": cursor, "next": f"{req.path}?{urlencode(params, doseq=True)}"}
