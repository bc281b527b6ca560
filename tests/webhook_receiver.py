"""A real webhook receiver for the tests: a threaded HTTP server on a free loopback port.

It verifies every request's Standard Webhooks signature with the scheme's own
library and keeps what came (id, verified or not, the JSON body). It can be
told to fail the next N requests, to fail everything, to redirect, to hold
requests until released (a slow receiver), and to go away and come back on the
same port.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    webhook_id: str
    verified: bool
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    at: float  # time.time() when it came


class Receiver:
    def __init__(self, secret: str = "", *, port: int = 0) -> None:
        self.secret = secret
        self.received: list[Received] = []
        self.guard = threading.Lock()
        self.fail_next = 0
        self.fail_all = False
        self.status_when_failing = 500
        self.answer_body = b"ok"
        self.redirect_to = ""
        self.hold = threading.Event()
        self.hold.set()  # set: requests are answered at once
        self.holding = 0
        self.hold_after: int | None = None  # hold requests once this many were taken
        self.delay = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?source=berth"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver._take(self, raw)

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Go away: the port refuses connections until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _take(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.guard:
            self.holding += 1
            if self.hold_after is not None and len(self.received) >= self.hold_after:
                self.hold.clear()
        self.hold.wait(timeout=60)
        if self.delay:
            time.sleep(self.delay)
        with self.guard:
            self.holding -= 1
            failing = self.fail_all or self.fail_next > 0
            if self.fail_next > 0:
                self.fail_next -= 1
            if not failing and not self.redirect_to:
                self.received.append(self._record(headers, raw))
        if self.redirect_to:
            handler.send_response(302)
            handler.send_header("Location", self.redirect_to)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        body = self.answer_body if not failing else b"x" * 5000
        handler.send_response(self.status_when_failing if failing else 200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _record(self, headers: dict[str, str], raw: bytes) -> Received:
        verified = False
        if self.secret:
            try:
                Webhook(self.secret).verify(raw, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        return Received(
            headers.get("webhook-id", ""), verified, json.loads(raw), raw, headers, time.time()
        )

    def ids(self) -> list[str]:
        with self.guard:
            return [r.webhook_id for r in self.received]

    def bodies(self) -> list[dict[str, Any]]:
        with self.guard:
            return [r.body for r in self.received]

    def wait_for(self, count: int, *, timeout: float = 60.0) -> list[Received]:
        """Until at least `count` requests were taken (answered 2xx)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.guard:
                if len(self.received) >= count:
                    return list(self.received)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} of {count} webhooks came")
            time.sleep(0.02)
