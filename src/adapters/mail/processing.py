"""Processing a stored mail: who sent it, what it asks, the commands, the outcome, the reply.

`MailProcessor.process` takes a stored mail under an advisory lock (two workers
never process one mail at once), checks its partner (known sender, DKIM when
required, shared secret when set), reads its bookings in the partner's format
and runs each as commands: new is hold+confirm, change is amend, cancel is
cancel, all keyed by the partner's reference (scoped to the partner, so a resent
mail never books twice). Each item's outcome is written in its command's
transaction; items already decided (a crash, a retry) are not run again. The
mail is then processed, or quarantined with the reason, and its reply queued.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from berth.adapters.mail import dkim_check, inbox, partners
from berth.adapters.mail.settings import MailSettings
from berth.domain.application import Reservations
from berth.domain.booking import Booking, Status
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.error import DomainError
from berth.domain.partner_mail import message, reading, replies, senders
from berth.domain.partner_mail.requests import CANCEL, CHANGE, BookingRequest, ItemProblem
from berth.domain.stay import Stay

log = logging.getLogger(__name__)

Connection = psycopg.Connection[Any]
MAIL_LOCK = 0x6D61696D  # the advisory lock space of mails being processed


class MailProcessor:
    def __init__(
        self,
        pool: ConnectionPool,
        app: Reservations,
        settings: MailSettings,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.pool = pool
        self.app = app
        self.settings = settings
        self.clock = clock

    def process_pending(self, *, limit: int = 100) -> int:
        """Process stored mails, oldest first; how many were decided."""
        with self.pool.connection() as conn:
            mail_ids = inbox.pending(conn, limit=limit)
        return sum(1 for mail_id in mail_ids if self.process(mail_id) is not None)

    def process(self, mail_id: int) -> str | None:
        """Decide the mail; its status, or None if another process holds it or it was decided."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (MAIL_LOCK, mail_id))
            taken = row.fetchone()
            if not (taken and taken[0]):
                return None
            try:
                return self._process(conn, mail_id)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (MAIL_LOCK, mail_id))

    def _process(self, conn: Connection, mail_id: int) -> str | None:
        mail, raw = inbox.load(conn, mail_id)
        if mail.status != inbox.STORED:
            return None
        partner = partners.get(conn, mail.partner_id) if mail.partner_id else None
        if partner is None:
            partner = partners.by_sender(conn, mail.sender)
            if partner is None:
                return self._quarantine(conn, mail, "unknown-sender", mail.sender or "no From")
            inbox.set_partner(conn, mail.mail_id, partner.partner_id)
        if partner.require_dkim:
            problem = dkim_check.verify(raw, sender=mail.sender, pinned_key=partner.dkim_public_key)
            if problem:
                return self._quarantine(conn, mail, "dkim-failed", problem)
        try:
            received = message.read(raw)
        except message.MalformedMail as malformed:
            line = f"Your message could not be read: {malformed} (malformed-mail)."
            return self._quarantine(conn, mail, "malformed-mail", str(malformed), reply=[line])
        if not partner.secret_matches(received.header_secret):
            return self._quarantine(conn, mail, "bad-secret", "the X-Partner-Secret is wrong")
        decided = {o.item for o in inbox.items(conn, mail.mail_id)}
        for item in reading.bookings_in(received, partner.format):
            if item.item not in decided:
                self._run(conn, mail, partner, item)
        # Replies go to the sender, or to its Reply-To if that is one of the partner's too.
        to = received.reply_to if senders.matches(received.reply_to, partner.senders) else None
        outcomes = inbox.items(conn, mail.mail_id)
        failed = [o for o in outcomes if o.failed]
        lines = [self._line(o) for o in outcomes]
        if failed:
            codes = sorted({o.code for o in failed})
            detail = "; ".join(f"item {o.item}: {o.code}" for o in failed)[:2000]
            reason = ",".join(codes)[:200]
            return self._quarantine(conn, mail, reason, detail, reply=lines, to=to)
        inbox.decide(
            conn,
            mail,
            status=inbox.PROCESSED,
            reason=None,
            detail=None,
            reply=self._reply(mail, to or mail.sender, lines),
        )
        return inbox.PROCESSED

    def _quarantine(
        self,
        conn: Connection,
        mail: inbox.StoredMail,
        reason: str,
        detail: str,
        *,
        reply: list[str] | None = None,
        to: str | None = None,
    ) -> str:
        """Quarantine the mail; a reply only to a partner we know sent it (no backscatter)."""
        log.info("mail %s quarantined: %s (%s)", mail.mail_id, reason, detail)
        answer = self._reply(mail, to or mail.sender, reply) if reply else None
        inbox.decide(
            conn, mail, status=inbox.QUARANTINED, reason=reason, detail=detail, reply=answer
        )
        return inbox.QUARANTINED

    def _reply(self, mail: inbox.StoredMail, to: str, lines: list[str]) -> tuple[str, bytes]:
        digest = hashlib.sha256(f"{mail.mail_id}/{mail.round}".encode()).hexdigest()[:24]
        reply = replies.Reply(
            sender=self.settings.sender,
            recipient=to,
            subject=mail.subject,
            in_reply_to=mail.message_id,
            message_id=f"<reply-{digest}@{self.settings.domain}>",
            lines=tuple(lines),
            sent_at=self.clock(),
        )
        return to, bytes(reply.message())

    # -- one booking -----------------------------------------------------------------

    def _run(
        self,
        conn: Connection,
        mail: inbox.StoredMail,
        partner: partners.Partner,
        item: BookingRequest | ItemProblem,
    ) -> None:
        if isinstance(item, ItemProblem):
            label = item.reference or f"item {item.item}"
            text = f"{label}: not read: {item.message} ({item.code})"
            self._record(conn, mail, item.item, item.reference, "", "invalid", item.code, text)
            return
        key = hashlib.sha256(f"{partner.partner_id}\0{item.reference}".encode()).digest()
        lock = int.from_bytes(key[:8], "big", signed=True)
        conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
        try:
            self._command(conn, mail, partner, item)
        except DomainError as refused:
            text = f"{item.reference}: refused: {refused} ({refused.code})"
            self._record(
                conn, mail, item.item, item.reference, item.action, "refused", refused.code, text
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))

    def _command(
        self,
        conn: Connection,
        mail: inbox.StoredMail,
        partner: partners.Partner,
        item: BookingRequest,
    ) -> None:
        cause = Cause(
            principal=f"partner:{partner.name}"[:200],
            channel=partner.channel,
            request_id=f"mail-{mail.mail_id}-{item.item}",
            correlation_id=mail.message_id[:200],
        )
        booking_id = inbox.partner_booking(conn, partner.partner_id, item.reference)

        def outcome(name: str | None, **kwargs: Any) -> dict[str, Any]:
            write = inbox.ItemWrite(
                mail_id=mail.mail_id,
                item=item.item,
                partner_reference=item.reference,
                action=item.action,
                outcome=name,
                **kwargs,
            )
            return {"context": CommandContext(cause=cause, row_write=write)}

        if booking_id is None and item.action in (CHANGE, CANCEL):
            raise UnknownReference(f"no booking has your reference {item.reference!r}")
        if item.action == CHANGE:
            assert booking_id is not None
            self.app.bookings.amend(
                booking_id=booking_id,
                arrival=item.arrival,
                departure=item.departure,
                quantity=item.quantity,
                guest={"name": item.guest} if item.guest else None,
                plates=item.plates,
                **outcome("amended"),
            )
            return
        if item.action == CANCEL:
            assert booking_id is not None
            booking = self.app.bookings.booking(booking_id)
            if booking.status == Status.CANCELLED:
                self._duplicate(conn, mail, item, booking, "cancelled")
                return
            self.app.bookings.cancel(
                booking_id=booking_id,
                reason="cancelled by the partner's mail",
                **outcome("cancelled"),
            )
            return
        if booking_id is None:
            assert item.arrival and item.departure
            held = self.app.bookings.hold(
                pool_id=partner.pool_id,
                stay=Stay(item.arrival, item.departure),
                quantity=item.quantity or 1,
                guest={"name": item.guest or ""},
                plates=item.plates or (),
                **outcome(None, partner_id=partner.partner_id),
            )
            booking_id = held.id
        booking = self.app.bookings.booking(booking_id)
        if booking.status == Status.HELD:
            self.app.bookings.confirm(booking_id=booking_id, **outcome("booked"))
        elif booking.status in (Status.CANCELLED, Status.EXPIRED):
            raise ReferenceEnded(
                f"your reference {item.reference!r} names a booking that is {booking.status}"
            )
        else:
            self._duplicate(conn, mail, item, booking, "booked")

    def _duplicate(
        self,
        conn: Connection,
        mail: inbox.StoredMail,
        item: BookingRequest,
        booking: Booking,
        what: str,
    ) -> None:
        """A resent booking or cancellation: no command, the booking as it stands."""
        inbox.record_item(
            conn,
            mail.mail_id,
            inbox.ItemOutcome(
                item=item.item,
                partner_reference=item.reference,
                action=item.action,
                outcome="duplicate",
                code=what,
                message="",
                booking_id=booking.id,
                booking_version=booking.version,
            ),
        )

    def _record(  # noqa: PLR0917 - one item's outcome, field by field
        self,
        conn: Connection,
        mail: inbox.StoredMail,
        item: int,
        reference: str,
        action: str,
        outcome: str,
        code: str,
        text: str,
    ) -> None:
        inbox.record_item(
            conn,
            mail.mail_id,
            inbox.ItemOutcome(
                item=item,
                partner_reference=reference,
                action=action,
                outcome=outcome,
                code=code,
                message=text[:2000],
                booking_id=None,
            ),
        )

    def _line(self, outcome: inbox.ItemOutcome) -> str:
        """The reply's line for an item: a refusal's text, or the booking as the item left it."""
        if outcome.booking_id is None or outcome.booking_version is None:
            return outcome.message
        booking: Booking = self.app.repository.get(
            outcome.booking_id, version=outcome.booking_version
        )
        ours = booking.reference
        if booking.status == Status.CANCELLED:
            again = " (it already was)" if outcome.outcome == "duplicate" else ""
            return f"{outcome.partner_reference}: {ours} is cancelled{again}"
        stay = replies.stay_line(
            reference=outcome.partner_reference,
            booking_reference=ours,
            arrival=booking.arrival.isoformat(),
            departure=booking.departure.isoformat(),
            total=booking.total,
            currency=booking.currency,
        )
        if outcome.outcome == "amended":
            return stay + " (changed)"
        if outcome.outcome == "duplicate":
            return stay + " (already booked: not booked again)"
        return stay


class UnknownReference(DomainError):
    code = "unknown-reference"


class ReferenceEnded(DomainError):
    code = "reference-ended"
