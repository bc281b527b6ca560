"""A PostgreSQL wire proxy for the benchmarks: counts round trips and names where they go.

`WireTrace(url)` listens on a free loopback port and forwards every connection
to the server of `url`; `trace.url` is `url` through the proxy, to be used with
the libpq settings `trace.environ` (TLS off, so the protocol can be read).
It counts, per kind of statement:

- round trips: each time a client sends after the server last answered it (a
  pipelined burst of statements is one round trip, named by its first statement);
- statements: each simple query or each extended-protocol Execute.

`snapshot()` gives the counters, so a caller can subtract two snapshots around
one request. Only the benchmark uses it; nothing in Berth knows it is there.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field

from psycopg.conninfo import conninfo_to_dict, make_conninfo

# (kind, pattern): the first pattern found in a statement's text names it.
KINDS: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(pattern, re.IGNORECASE | re.DOTALL))
    for kind, pattern in [
        ("pool check", r"^\s*$"),
        ("transaction", r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)"),
        ("night lock", r"pg_advisory_(xact_)?lock"),
        ("night unlock", r"pg_advisory_unlock"),
        ("idempotency", r"idempotency_keys|pg_try_advisory"),
        ("api key", r"api_keys"),
        ("save", r"lock_timeout|berth_lock_events|NOTIFY|INSERT INTO \S*berth_events"),
        ("aggregate read", r"FROM \S*berth_events\"?\s+WHERE originator_id"),
        ("snapshot read", r"FROM \S*snapshots"),
        ("events read", r"berth_events"),
    ]
]


def kind_of(statement: str) -> str:
    for kind, pattern in KINDS:
        if pattern.search(statement):
            return kind
    return "other: " + " ".join(statement.split())[:40]


@dataclass
class Counts:
    round_trips: Counter[str] = field(default_factory=Counter)
    statements: Counter[str] = field(default_factory=Counter)

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.round_trips - other.round_trips, self.statements - other.statements)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.round_trips + other.round_trips, self.statements + other.statements)


class WireTrace:
    def __init__(self, url: str) -> None:
        params = conninfo_to_dict(url)
        self.upstream = (str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432))
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        self.url = make_conninfo(url, host="127.0.0.1", port=str(port))
        self.environ = {"PGSSLMODE": "disable", "PGGSSENCMODE": "disable"}
        self.lock = threading.Lock()
        self.counts = Counts()
        threading.Thread(target=self._accept, daemon=True).start()

    def snapshot(self) -> Counts:
        with self.lock:
            return Counts(Counter(self.counts.round_trips), Counter(self.counts.statements))

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _Connection(self, client, server)

    def record(self, round_trip: str | None, statements: list[str]) -> None:
        with self.lock:
            if round_trip is not None:
                self.counts.round_trips[round_trip] += 1
            for statement in statements:
                self.counts.statements[statement] += 1


class _Connection:
    """One proxied connection: two pumps, the client's messages parsed as they pass."""

    def __init__(self, trace: WireTrace, client: socket.socket, server: socket.socket) -> None:
        self.trace = trace
        self.client, self.server = client, server
        self.server_spoke = True  # the next client send starts a round trip
        self.buffer = b""
        self.started = False  # past the untyped startup messages
        self.prepared: dict[str, str] = {}  # statement name -> text
        self.bound = ""  # the text of the statement last bound
        threading.Thread(target=self._from_client, daemon=True).start()
        threading.Thread(target=self._from_server, daemon=True).start()

    def _from_server(self) -> None:
        try:
            while data := self.server.recv(65536):
                self.server_spoke = True
                self.client.sendall(data)
        except OSError:
            pass
        finally:
            self.client.close()

    def _from_client(self) -> None:
        try:
            while data := self.client.recv(65536):
                first: str | None = None
                kinds = self._parse(data)
                if self.server_spoke:
                    self.server_spoke = False
                    first = kinds[0] if kinds else "protocol (connect, sync, close)"
                self.trace.record(first, kinds)
                self.server.sendall(data)
        except OSError:
            pass
        finally:
            self.server.close()

    def _parse(self, data: bytes) -> list[str]:
        """The kinds of the statements run by the complete messages received so far."""
        self.buffer += data
        kinds: list[str] = []
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return kinds
                (length,) = struct.unpack("!I", self.buffer[:4])
                if len(self.buffer) < length:
                    return kinds
                (code,) = struct.unpack("!I", self.buffer[4:8])
                self.buffer = self.buffer[length:]
                # SSLRequest and GSSENCRequest come before the StartupMessage.
                self.started = code not in (80877103, 80877104)
                continue
            if len(self.buffer) < 5:
                return kinds
            kind = self.buffer[:1]
            (length,) = struct.unpack("!I", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return kinds
            body = self.buffer[5 : 1 + length]
            self.buffer = self.buffer[1 + length :]
            if kind == b"Q":
                kinds.append(kind_of(body.split(b"\0")[0].decode(errors="replace")))
            elif kind == b"P":
                name, text = body.split(b"\0")[:2]
                self.prepared[name.decode()] = text.decode(errors="replace")
                if not name:
                    self.bound = text.decode(errors="replace")
            elif kind == b"B":
                statement = body.split(b"\0")[1].decode()
                self.bound = self.prepared.get(statement, "")
            elif kind == b"E":
                kinds.append(kind_of(self.bound))
