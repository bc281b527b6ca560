"""Signed webhook calls from cameras, as ANPR vendors sign them.

The camera sends `X-Berth-Signature: t=<unix seconds>,v1=<hex>`, where the hex
is HMAC-SHA256 with its shared secret over `<t>.` followed by the raw body.
A timestamp further than the tolerance from now is refused, so a captured
request cannot be replayed later. While a camera's secret is being rotated the
header may carry two signatures (`t=..,v1=<old>,v1=<new>`); one that matches
any secret still accepted is enough.

The read's `captured_at` must lie within the same tolerance of the signed time:
a camera cannot sign a read now and date it hours earlier (an exit backdated to
avoid an overstay charge) or later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from berth.http.problems import Problem

HEADER = "X-Berth-Signature"
MAX_SIGNATURES = 2
# ASCII only, bounded: a unix time of at most 12 digits, sha256 hex digests.
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MAX_HEADER = 512


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _refused(detail: str) -> Problem:
    return Problem(401, "bad-signature", "Bad signature", detail)


def verify(
    header: str | None, *, secrets: Sequence[str], body: bytes, now: datetime, tolerance: int
) -> datetime:
    """The signed time, or a 401 problem unless `header` signs `body` with one of
    `secrets`, recently enough."""
    if not header:
        raise _refused(f"send the {HEADER} header")
    if len(header) > _MAX_HEADER:
        raise _refused(f"{HEADER} is longer than {_MAX_HEADER} characters")
    parts = [part.strip().partition("=")[::2] for part in header.split(",")]
    stamps = [value for name, value in parts if name == "t"]
    signatures = [value for name, value in parts if name == "v1"]
    if (
        len(stamps) != 1
        or not _TIMESTAMP.fullmatch(stamps[0])
        or not 1 <= len(signatures) <= MAX_SIGNATURES
        or not all(_DIGEST.fullmatch(signature) for signature in signatures)
    ):
        raise _refused(
            f"{HEADER} must be t=<unix seconds>,v1=<64 lowercase hex digits>"
            f" (at most {MAX_SIGNATURES} v1 signatures)"
        )
    timestamp = int(stamps[0])
    if abs(now.timestamp() - timestamp) > tolerance:
        raise _refused(f"the signature's timestamp is more than {tolerance} s from now")
    expected = [_digest(secret, timestamp, body) for secret in secrets]
    # Compare every pair, so the time taken does not tell which secret matched.
    matches = [hmac.compare_digest(e, s) for e in expected for s in signatures]
    if not any(matches):
        raise _refused("the signature does not match the body")
    return datetime.fromtimestamp(timestamp, UTC)


def check_captured_at(captured_at: datetime, *, signed_at: datetime, tolerance: int) -> None:
    """Refuse a read dated further than `tolerance` seconds from its signature."""
    if abs((captured_at - signed_at).total_seconds()) > tolerance:
        raise Problem(
            422,
            "captured-at-outside-signature",
            "Capture time outside the signature's tolerance",
            f"captured_at must be within {tolerance} s of the signature's time"
            f" ({signed_at.isoformat()})",
        )
