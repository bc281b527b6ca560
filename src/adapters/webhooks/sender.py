"""One signed webhook request: Standard Webhooks headers, a timeout, no redirects followed.

The body is signed with the `standardwebhooks` package (the scheme's reference
library): `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
the secret being the bytes of `whsec_<base64>`. While a rotated secret's grace
lasts the header has one entry per secret, space-separated, the newest first
(the scheme's way to rotate): a receiver verifying with either accepts it.
A 2xx answer is delivered; anything else, a 3xx included (redirects are not
followed: http.client never follows one), a timeout, a refused or unreachable
address, is a failure to retry. Only the first RESPONSE_BODY_LIMIT bytes of an
answer are read and kept.
"""

from __future__ import annotations

import base64
import http.client
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from secrets import token_bytes
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from berth.adapters.webhooks import addresses

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = "berth-webhooks/1"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret


def new_secret() -> str:
    """A signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(32)).decode()


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None  # the receiver's HTTP status, None if it never answered
    latency_ms: float
    body: str  # the first bytes of the answer, as text
    error: str  # why it failed, empty when delivered


def signed_headers(
    *, secrets: Sequence[str], webhook_id: str, body: str, now: datetime
) -> dict[str, str]:
    """The Standard Webhooks headers, signed with each of `secrets` (one or more)."""
    if not secrets:
        raise ValueError("a webhook is signed with one secret or more")
    timestamp = now.astimezone(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets
        ),
    }


def send(
    url: str,
    *,
    secrets: Sequence[str],
    webhook_id: str,
    body: str,
    timeout: float,
    private_ok: bool,
) -> Outcome:
    """POST `body` to `url`, signed, within `timeout` seconds a step (connect, send, answer)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def vetted(address: tuple[str, int], timeout: float | None = None, *_: object) -> socket.socket:
        return addresses.connect(address[0], address[1], timeout, private_ok=private_ok)

    connection._create_connection = vetted  # type: ignore[attr-defined]  # the vetted address only
    headers = signed_headers(
        secrets=secrets, webhook_id=webhook_id, body=body, now=datetime.now(UTC)
    )
    headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
    started = time.monotonic()
    try:
        connection.request("POST", target, body=body.encode(), headers=headers)
        response = connection.getresponse()
        answer = response.read(RESPONSE_BODY_LIMIT)
        latency = (time.monotonic() - started) * 1000
        text = answer.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        if 200 <= response.status < 300:
            return Outcome(True, response.status, latency, text, "")
        return Outcome(False, response.status, latency, text, f"answered {response.status}")
    except (OSError, http.client.HTTPException) as failure:
        latency = (time.monotonic() - started) * 1000
        return Outcome(False, None, latency, "", f"{type(failure).__name__}: {failure}"[:500])
    finally:
        connection.close()
