"""A raw message split into what partner formats read: who, which message, body, attachments.

The stdlib parser is lenient, but a hostile message can still make it raise
while a header or part is decoded; every such failure is `MalformedMail`, so
the caller quarantines the message instead of crashing on it.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage

MAX_ATTACHMENTS = 20
MAX_HEADER = 998  # RFC 5322's line length: longer header values are refused, not kept


class MalformedMail(ValueError):
    code = "malformed-mail"


@dataclass(frozen=True, kw_only=True)
class Attachment:
    filename: str
    content_type: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ReceivedMail:
    sender: str  # the From address, lower case
    message_id: str  # the Message-ID, or one made from the content when there is none
    subject: str
    reply_to: str
    body: str
    attachments: tuple[Attachment, ...]
    header_secret: str


def envelope_of(raw: bytes) -> tuple[str, str, str]:
    """The sender, Message-ID and subject, read without decoding any part: for storing."""
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
        sender = _address(str(parsed.get("From", "")))
        message_id = _clean(str(parsed.get("Message-ID", "")).strip())
        subject = _clean(str(parsed.get("Subject", "")))
    except Exception:  # any parse failure of hostile input means "unreadable"
        sender, message_id, subject = "", "", ""
    if not message_id:
        message_id = "<sha256:" + hashlib.sha256(raw).hexdigest() + ">"
    return sender, message_id[:MAX_HEADER], subject[:MAX_HEADER]


def read(raw: bytes) -> ReceivedMail:
    """The message's parts; MalformedMail if it cannot be read as a MIME message."""
    try:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        if parsed.defects and not parsed.get("From"):
            raise MalformedMail(f"not a message: {parsed.defects[0].__class__.__name__}")
        sender, message_id, subject = envelope_of(raw)
        if not sender:
            raise MalformedMail("the message has no From address")
        reply_to = _address(str(parsed.get("Reply-To", ""))) or sender
        body_part = parsed.get_body(preferencelist=("plain",))
        body = _clean(body_part.get_content()) if body_part is not None else ""
        attachments: list[Attachment] = []
        for part in parsed.iter_attachments():
            if len(attachments) == MAX_ATTACHMENTS:
                raise MalformedMail(f"more than {MAX_ATTACHMENTS} attachments")
            content = part.get_content()
            if isinstance(content, bytes):
                content = content.decode("utf-8", errors="strict")
            if not isinstance(content, str):
                continue  # a message/rfc822 part, say: no booking format reads it
            attachments.append(
                Attachment(
                    filename=_clean(part.get_filename() or ""),
                    content_type=part.get_content_type(),
                    text=_clean(content),
                )
            )
        secret = _clean(str(parsed.get("X-Partner-Secret", "")).strip())
    except MalformedMail:
        raise
    except Exception as error:  # hostile input can fail anywhere in the parser
        raise MalformedMail(f"the message cannot be read: {type(error).__name__}") from None
    return ReceivedMail(
        sender=sender,
        message_id=message_id,
        subject=subject,
        reply_to=reply_to,
        body=body,
        attachments=tuple(attachments),
        header_secret=secret,
    )


def _address(header: str) -> str:
    _, address = email.utils.parseaddr(header)
    address = _clean(address).strip().lower()
    return address if "@" in address and len(address) <= 254 else ""


def _clean(text: str) -> str:
    """Text PostgreSQL can store: NUL and lone surrogates (undecodable bytes) replaced."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
