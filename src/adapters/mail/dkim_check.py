"""DKIM verification (dkimpy) for partners who require it.

The signature must verify and its signing domain (d=) must be the sender's
domain or a parent of it. The public key comes from DNS unless the partner has
one pinned, which is then the only key accepted (useful for partners whose DNS
we cannot rely on, and for tests without DNS).
"""

from __future__ import annotations

import email
import email.policy
import logging
from typing import Any

import dkim

from berth.domain.partner_mail import senders

log = logging.getLogger(__name__)


def verify(raw: bytes, *, sender: str, pinned_key: str | None = None) -> str | None:
    """None if the message carries a valid, aligned DKIM signature; else why not."""
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    signature = parsed.get("DKIM-Signature")
    if signature is None:
        return "the message has no DKIM signature"
    tags = dict(part.strip().split("=", 1) for part in str(signature).split(";") if "=" in part)
    signer = "".join(tags.get("d", "").split()).lower()
    domain = senders.domain_of(sender)
    if not signer or not (domain == signer or domain.endswith("." + signer)):
        return f"the DKIM signature is by {signer or 'no domain'}, not {domain}"
    dnsfunc: Any = dkim.dnsplug.get_txt
    if pinned_key is not None:
        record = b"v=DKIM1; k=rsa; p=" + pinned_key.encode()

        def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
            return record

    try:
        valid = dkim.verify(raw, dnsfunc=dnsfunc, logger=log)
    except Exception as error:  # dkimpy raises many kinds on hostile input
        return f"the DKIM signature cannot be checked: {type(error).__name__}"
    return None if valid else "the DKIM signature does not verify"
