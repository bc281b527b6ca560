"""The IMAP inlet: reads a mailbox (stdlib imaplib), storing each unseen message, then flagging it.

Each UNSEEN message is fetched with BODY.PEEK[] (which does not set \\Seen),
committed to the inbox, and only then flagged \\Seen: a crash in between fetches
it again next time, and the inbox keeps one copy (idempotent by partner and
Message-ID). A message above the size bound is stored by its header alone and
quarantined as too large. Between rounds the inlet waits in IDLE (RFC 2177)
when the server offers it, else for the poll interval.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import select
import threading
from collections.abc import Callable

from psycopg_pool import ConnectionPool

from berth.adapters.mail import inbox
from berth.adapters.mail.settings import MailSettings

log = logging.getLogger(__name__)

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
IMAP_TIMEOUT = 30.0


class ImapInlet:
    def __init__(
        self, pool: ConnectionPool, settings: MailSettings, on_stored: Callable[[int], None]
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.on_stored = on_stored

    def connect(self) -> imaplib.IMAP4:
        s = self.settings
        imap: imaplib.IMAP4
        if s.imap_ssl:
            imap = imaplib.IMAP4_SSL(s.imap_host, s.imap_port, timeout=IMAP_TIMEOUT)
        else:
            imap = imaplib.IMAP4(s.imap_host, s.imap_port, timeout=IMAP_TIMEOUT)
        imap.login(s.imap_user, s.imap_password)
        status, _ = imap.select(s.imap_mailbox)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select {s.imap_mailbox}")
        return imap

    def run(self, stop: threading.Event) -> None:
        """Read the mailbox until `stop`; an IMAP or network error ends it (the caller retries)."""
        imap = self.connect()
        try:
            while not stop.is_set():
                self.store_unseen(imap)
                self.wait(imap, stop)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def store_unseen(self, imap: imaplib.IMAP4) -> int:
        """Store and flag every unseen message; how many were new to the inbox."""
        status, data = imap.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise imaplib.IMAP4.error("SEARCH UNSEEN failed")
        new = 0
        for uid in (data[0] or b"").split():
            raw, size = self._fetch(imap, uid.decode())
            with self.pool.connection() as conn:
                mail_id, is_new = inbox.store(
                    conn, raw, inlet="imap", max_bytes=self.settings.max_bytes, size=size
                )
            imap.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
            if is_new:
                new += 1
                self.on_stored(mail_id)
        return new

    def _fetch(self, imap: imaplib.IMAP4, uid: str) -> tuple[bytes, int]:
        status, data = imap.uid("FETCH", uid, "(RFC822.SIZE)")
        found = _SIZE.search(_flat(data)) if status == "OK" else None
        size = int(found.group(1)) if found else 0
        part = "BODY.PEEK[HEADER]" if size > self.settings.max_bytes else "BODY.PEEK[]"
        status, data = imap.uid("FETCH", uid, f"({part})")
        raw = next((item[1] for item in data if isinstance(item, tuple)), None)
        if status != "OK" or not isinstance(raw, bytes):
            raise imaplib.IMAP4.error(f"FETCH {uid} failed")
        return raw, size

    def wait(self, imap: imaplib.IMAP4, stop: threading.Event) -> None:
        if "IDLE" not in imap.capabilities:
            stop.wait(self.settings.poll_seconds)
            return
        idle(imap, stop, timeout=self.settings.poll_seconds)


def idle(imap: imaplib.IMAP4, stop: threading.Event, *, timeout: float) -> None:
    """IDLE until the server reports a change, `stop` is set, or `timeout` passes.

    imaplib has no IDLE before Python 3.14: the command is spoken on its socket.
    """
    tag: bytes = imap._new_tag()
    imap.send(tag + b" IDLE\r\n")
    if not imap.readline().startswith(b"+"):
        raise imaplib.IMAP4.error("the server refused IDLE")
    waited = 0.0
    while not stop.is_set() and waited < timeout:
        readable, _, _ = select.select([imap.sock], [], [], 1.0)
        waited += 1.0
        if readable:
            line = imap.readline()
            if not line:
                raise imaplib.IMAP4.abort("the server closed the connection in IDLE")
            if b"EXISTS" in line or b"RECENT" in line:
                break
    imap.send(b"DONE\r\n")
    while True:
        line = imap.readline()
        if not line:
            raise imaplib.IMAP4.abort("the server closed the connection after IDLE")
        if line.startswith(tag):
            return


def _flat(data: list[object]) -> bytes:
    out = b""
    for item in data:
        if isinstance(item, bytes):
            out += item
        elif isinstance(item, tuple):
            out += b"".join(part for part in item if isinstance(part, bytes))
    return out
