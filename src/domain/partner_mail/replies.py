"""The answer to a partner's mail: what happened to each booking it held, threaded to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

MAX_SUBJECT = 200


@dataclass(frozen=True, kw_only=True)
class Reply:
    sender: str  # our address
    recipient: str
    subject: str  # the partner's subject
    in_reply_to: str  # the partner's Message-ID
    message_id: str  # this reply's own, stable, so a resent reply can be recognised
    lines: tuple[str, ...]
    sent_at: datetime

    def message(self) -> EmailMessage:
        reply = EmailMessage()
        reply["From"] = self.sender
        reply["To"] = self.recipient
        subject = " ".join(self.subject.split())[:MAX_SUBJECT]
        reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        reply["Message-ID"] = self.message_id
        if self.in_reply_to.startswith("<") and not self.in_reply_to.startswith("<sha256:"):
            reply["In-Reply-To"] = self.in_reply_to
            reply["References"] = self.in_reply_to
        reply["Date"] = format_datetime(self.sent_at)
        reply["Auto-Submitted"] = "auto-replied"
        reply.set_content("\n".join(self.lines) + "\n")
        return reply


def stay_line(
    *,
    reference: str,
    booking_reference: str,
    arrival: str,
    departure: str,
    total: int,
    currency: str,
) -> str:
    whole, cents = divmod(total, 100)
    return (
        f"{reference}: confirmed as {booking_reference}, {arrival} to {departure},"
        f" {whole}.{cents:02d} {currency}"
    )
