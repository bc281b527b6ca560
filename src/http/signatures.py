"""Signed webhook calls from cameras, as ANPR vendors sign them.

The camera sends `X-Berth-Signature: t=<unix seconds>,v1=<hex>`, where the hex
is HMAC-SHA256 with its shared secret over `<t>.` followed by the raw body.
A timestamp further than the tolerance from now is refused, so a captured
request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from berth.http.problems import Problem

HEADER = "X-Berth-Signature"
# ASCII only, bounded: a unix time of at most 12 digits, a sha256 hex digest.
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MAX_HEADER = 512


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _refused(detail: str) -> Problem:
    return Problem(401, "bad-signature", "Bad signature", detail)


def verify(header: str | None, *, secret: str, body: bytes, now: datetime, tolerance: int) -> None:
    """Raise a 401 problem unless `header` signs `body` with `secret`, recently enough."""
    if not header:
        raise _refused(f"send the {HEADER} header")
    parts = dict(part.partition("=")[::2] for part in header[: _MAX_HEADER + 1].split(","))
    stamp, digest = parts.get("t", ""), parts.get("v1", "")
    if (
        len(header) > _MAX_HEADER
        or not _TIMESTAMP.fullmatch(stamp)
        or not _DIGEST.fullmatch(digest)
    ):
        raise _refused(f"{HEADER} must be t=<unix seconds>,v1=<64 lowercase hex digits>")
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > tolerance:
        raise _refused(f"the signature's timestamp is more than {tolerance} s from now")
    expected = sign(secret, timestamp, body).partition(",v1=")[2]
    if not hmac.compare_digest(expected, digest):
        raise _refused("the signature does not match the body")
