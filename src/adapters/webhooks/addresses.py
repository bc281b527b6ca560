"""Where a webhook may be sent: http(s) URLs whose host is a public address.

A receiver's URL is checked twice. When a subscription is made or changed,
`checked_url` refuses anything but an absolute http or https URL without
credentials or a fragment, and a host written as a private, loopback,
link-local or otherwise non-global address (or `localhost`). At every send,
`connect` resolves the host again and connects only to an address that is
global, so a name that later resolves inside the network (DNS rebinding) is
refused too. `BERTH_WEBHOOKS_ALLOW_PRIVATE` lifts both refusals (tests and
receivers on one's own network).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

from berth import config
from berth.domain.error import InvalidCommand

MAX_URL = 2000
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


class InvalidWebhookUrl(InvalidCommand):
    code = "invalid-webhook-url"


class AddressRefused(OSError):
    """The receiver's host resolves only to addresses a webhook may not reach."""


def allow_private(environ: Mapping[str, str] | None = None) -> bool:
    """Whether `BERTH_WEBHOOKS_ALLOW_PRIVATE` is on (`berth.config`)."""
    return config.load(environ).webhooks_allow_private


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def checked_url(url: str, *, private_ok: bool) -> str:
    """The URL as stored, or InvalidWebhookUrl."""
    if len(url) > MAX_URL or not url.isprintable() or url != url.strip():
        raise InvalidWebhookUrl(f"a webhook URL is at most {MAX_URL} printable characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidWebhookUrl(f"not a URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhookUrl("a webhook URL is absolute, http:// or https://, with a host")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise InvalidWebhookUrl("a webhook URL carries no credentials and no #fragment")
    if port == 0:
        raise InvalidWebhookUrl("port 0 is no port")
    if not private_ok and not _host_may_be_public(parts):
        raise InvalidWebhookUrl(
            f"{parts.hostname} is a private, loopback or reserved address; webhooks go to"
            " public receivers"
        )
    return url


def _host_may_be_public(parts: SplitResult) -> bool:
    host = (parts.hostname or "").rstrip(".").lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return False
    try:
        return _public(host)
    except ValueError:
        return True  # a name: resolved, and checked, when it is called


def connect(host: str, port: int, timeout: float | None, *, private_ok: bool) -> socket.socket:
    """A socket connected to one of `host`'s addresses that a webhook may reach."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed = [info for info in infos if private_ok or _public(str(info[4][0]))]
    if not allowed:
        raise AddressRefused(f"{host} resolves only to private or reserved addresses")
    error: OSError | None = None
    for family, kind, proto, _, address in allowed:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as failure:
            sock.close()
            error = failure
    assert error is not None
    raise error
