"""The mail workers: `mail-smtp` (an SMTP server) and `mail-imap` (an IMAP mailbox reader).

Each runs, beside its inlet, the processing loop (stored mails become commands:
the inlet wakes it for each new mail, and it also looks every
BERTH_MAIL_POLL_SECONDS for mail stored but not processed, which is how a mail
stored just before a crash is processed after it) and the reply sender (the
outbox, through BERTH_SMTP_RELAY). Both may run at once, and more than one of
each: a mail is processed under its advisory lock, a reply sent under its row lock.
"""

from __future__ import annotations

import imaplib
import logging
import threading
from collections.abc import Callable

from psycopg_pool import ConnectionPool

from berth.adapters.mail import inbox, outbox, smtp_inlet
from berth.adapters.mail.imap_inlet import ImapInlet
from berth.adapters.mail.processing import MailProcessor
from berth.adapters.mail.settings import MailSettings
from berth.adapters.postgres import database
from berth.adapters.postgres.eventstore import open_reservations, utc_now

log = logging.getLogger(__name__)

SMTP_NAME = "mail-smtp"
IMAP_NAME = "mail-imap"
RELAY_RETRY_SECONDS = 5.0


class MailPipeline:
    """The processing loop and the reply sender, as two threads, until `stop`."""

    def __init__(self, url: str, settings: MailSettings, stop: threading.Event) -> None:
        self.settings = settings
        self.stop = stop
        self.pool: ConnectionPool = database.request_pool(url, max_size=4 + 2 * settings.processors)
        self.app = open_reservations(url)
        self.processor = MailProcessor(self.pool, self.app, settings, clock=utc_now)
        self.stored = threading.Event()
        self.decided = threading.Event()
        # Several processing threads share the stored mails (each mail under its lock).
        self.threads = [
            threading.Thread(target=self._guarded(self._process), name=f"mail-process-{n}")
            for n in range(settings.processors)
        ]
        self.threads.append(threading.Thread(target=self._guarded(self._send), name="mail-replies"))

    def wake(self, mail_id: int) -> None:
        self.stored.set()

    def __enter__(self) -> MailPipeline:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.stored.set()
        self.decided.set()
        for thread in self.threads:
            thread.join(timeout=30)
        self.app.close()
        self.pool.close()

    def _guarded(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            while not self.stop.is_set():
                try:
                    loop()
                except Exception:  # a dead thread would stop mail unseen
                    log.exception("%s failed; again shortly", threading.current_thread().name)
                    self.stop.wait(RELAY_RETRY_SECONDS)

        return run

    def _process(self) -> None:
        while not self.stop.is_set():
            self.stored.clear()
            with self.pool.connection() as conn:
                pending = inbox.pending(conn)
            for mail_id in pending:
                if self.stop.is_set():
                    return
                try:
                    if self.processor.process(mail_id) is not None:
                        self.decided.set()
                except Exception:  # one mail's failure must not hold the rest
                    log.exception("mail %s not processed; it stays stored, tried again", mail_id)
            if len(pending) < 100:
                self.stored.wait(self.settings.poll_seconds)

    def _send(self) -> None:
        while not self.stop.is_set():
            self.decided.clear()
            try:
                while outbox.send_one(self.pool, self.settings):
                    if self.stop.is_set():
                        return
            except outbox.RelayFailed as failed:
                log.warning("reply not sent, kept in the outbox: %s", failed)
                self.stop.wait(RELAY_RETRY_SECONDS)
                continue
            self.decided.wait(self.settings.poll_seconds)


def run_smtp(url: str, stop: threading.Event) -> None:
    serve_smtp(url, MailSettings.from_environ(), stop)


def serve_smtp(url: str, settings: MailSettings, stop: threading.Event) -> None:
    with MailPipeline(url, settings, threading.Event()) as pipeline:
        server = smtp_inlet.controller(pipeline.pool, settings, pipeline.wake)
        server.start()
        log.info(
            "mail-smtp: accepting mail for %s on %s:%s",
            settings.domain,
            settings.smtp_host,
            settings.smtp_port,
        )
        try:
            stop.wait()
        finally:
            server.stop()


def run_imap(url: str, stop: threading.Event) -> None:
    serve_imap(url, MailSettings.from_environ(), stop)


def serve_imap(url: str, settings: MailSettings, stop: threading.Event) -> None:
    if not settings.imap_user:
        log.info("mail-imap: no BERTH_IMAP_USER, no mailbox to read; idle until stopped")
        stop.wait()
        return
    with MailPipeline(url, settings, threading.Event()) as pipeline:
        inlet = ImapInlet(pipeline.pool, settings, pipeline.wake)
        log.info("mail-imap: reading %s on %s", settings.imap_mailbox, settings.imap_host)
        while not stop.is_set():
            try:
                inlet.run(stop)
            except (imaplib.IMAP4.error, OSError) as error:
                log.warning("mail-imap: %s; connecting again", error)
                stop.wait(RELAY_RETRY_SECONDS)
