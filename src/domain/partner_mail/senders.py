"""Who a partner is: the sender addresses (a@b.example) and domains (@b.example) it sends from."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ADDRESS = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9.-]{1,253}$")
_DOMAIN = re.compile(r"^@[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+$")
MAX_SENDERS = 50


class InvalidSender(ValueError):
    code = "invalid-sender"


def normal(sender: str) -> str:
    """The sender in lower case if it is an address or an @domain; else InvalidSender."""
    lowered = sender.strip().lower()
    if _DOMAIN.match(lowered) or (_ADDRESS.match(lowered) and ".." not in lowered):
        return lowered
    raise InvalidSender(
        f"{sender[:60]!r} is neither an address (a@b.example) nor a domain (@b.example)"
    )


def matches(address: str, allowed: Iterable[str]) -> bool:
    """Whether `address` is one of the allowed addresses or in one of the allowed domains."""
    address = address.lower()
    _, _, domain = address.rpartition("@")
    return any(a == address or a == "@" + domain for a in allowed)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()
