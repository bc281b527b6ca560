"""A small in-process IMAP4rev1 server for the IMAP inlet's tests (one mailbox, real sockets).

It speaks what the inlet uses: CAPABILITY, LOGIN, SELECT, UID SEARCH UNSEEN,
UID FETCH (RFC822.SIZE | BODY.PEEK[] | BODY.PEEK[HEADER]), UID STORE +FLAGS
(\\Seen), IDLE/DONE (announcing new mail with EXISTS), NOOP and LOGOUT.
"""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    idle: bool = True
    changed: threading.Condition = field(default_factory=threading.Condition)
    next_uid: int = 1

    def deliver(self, raw: bytes) -> int:
        with self.changed:
            uid = self.next_uid
            self.next_uid += 1
            self.messages[uid] = raw
            self.changed.notify_all()
            return uid


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        box = self.server.mailbox
        caps = b"IMAP4rev1 IDLE" if box.idle else b"IMAP4rev1"
        self.send(b"* OK [CAPABILITY " + caps + b"] test server ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.strip().partition(b" ")
            command, _, args = rest.partition(b" ")
            command = command.upper()
            if command == b"CAPABILITY":
                self.send(b"* CAPABILITY " + caps)
            elif command == b"LOGIN":
                if [a.strip(b'"') for a in args.split()] != [b"partner", b"secret"]:
                    self.send(tag + b" NO wrong password")
                    continue
            elif command == b"SELECT":
                self.send(b"* %d EXISTS" % len(box.messages))
                self.send(b"* FLAGS (\\Seen)")
            elif command == b"UID":
                self.uid(tag, args, box)
                continue
            elif command == b"IDLE":
                self.idle(tag, box)
                continue
            elif command == b"LOGOUT":
                self.send(b"* BYE")
                self.send(tag + b" OK LOGOUT done")
                return
            self.send(tag + b" OK " + command + b" done")

    def uid(self, tag: bytes, args: bytes, box: Mailbox) -> None:
        sub, _, rest = args.partition(b" ")
        sub = sub.upper()
        if sub == b"SEARCH":
            unseen = [uid for uid in sorted(box.messages) if uid not in box.seen]
            self.send(b"* SEARCH" + b"".join(b" %d" % uid for uid in unseen))
        elif sub == b"FETCH":
            uid_text, _, what = rest.partition(b" ")
            uid = int(uid_text)
            raw = box.messages[uid]
            if b"RFC822.SIZE" in what:
                self.send(b"* 1 FETCH (UID %d RFC822.SIZE %d)" % (uid, len(raw)))
            else:
                header = b"HEADER" in what
                data = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" if header else raw
                name = b"BODY[HEADER]" if header else b"BODY[]"
                self.wfile.write(b"* 1 FETCH (UID %d %s {%d}\r\n" % (uid, name, len(data)))
                self.wfile.write(data + b")\r\n")
        elif sub == b"STORE":
            uid = int(rest.split()[0])
            if re.search(rb"\\Seen", rest):
                box.seen.add(uid)
            self.send(b"* 1 FETCH (UID %d FLAGS (\\Seen))" % uid)
        self.send(tag + b" OK UID done")

    def idle(self, tag: bytes, box: Mailbox) -> None:
        self.send(b"+ idling")
        count = len(box.messages)
        done = threading.Event()

        def announce() -> None:
            with box.changed:
                while not done.is_set() and len(box.messages) == count:
                    box.changed.wait(0.2)
            if not done.is_set():
                self.send(b"* %d EXISTS" % len(box.messages))

        watcher = threading.Thread(target=announce, daemon=True)
        watcher.start()
        self.rfile.readline()  # DONE
        done.set()
        watcher.join()
        self.send(tag + b" OK IDLE done")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailbox: Mailbox


@contextmanager
def imap_server(mailbox: Mailbox) -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.mailbox = mailbox
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
