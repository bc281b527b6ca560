"""Oversized request headers answer problem+json (431) from the app, not gunicorn's HTML page.

gunicorn refuses a header line longer than its `limit_request_field_size`
with a plain HTML 431 before the app sees it. `berth.http.gunicorn_config`
raises that limit to GUNICORN_FIELD_BYTES, and this middleware bounds every
header at MAX_HEADER_BYTES with a problem the client can read, so only a header
beyond gunicorn's raised limit still meets gunicorn's own answer.
"""

from __future__ import annotations

import falcon

from berth.http.problems import Problem

MAX_HEADER_BYTES = 8192
GUNICORN_FIELD_BYTES = 32768


class HeaderLimits:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        for name, value in req.headers.items():
            if len(value) > MAX_HEADER_BYTES:
                raise Problem(
                    431,
                    "header-too-large",
                    "Request header too large",
                    f"the {name.title()} header is {len(value)} bytes; a header is at most "
                    f"{MAX_HEADER_BYTES}",
                )
