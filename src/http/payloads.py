"""Reads the body and query string of each request through its endpoint's schemas.

Bodies must be JSON objects sent as application/json, no larger than the
configured limit, with a Content-Length or sent chunked (Transfer-Encoding:
chunked, which the server has already decoded); an empty body counts as `{}`.
Unknown fields and query parameters are refused. The loaded values land in `req.context.body` and
`req.context.query`; the parsed JSON in `req.context.payload` (for hashing).
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from berth.http.endpoint import Endpoint
from berth.http.problems import Problem
from berth.http.schemas.base import shared
from berth.http.settings import Settings

JSON = "application/json"


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _too_large(limit: int) -> Problem:
    return Problem(413, "body-too-large", "Body too large", f"a body is at most {limit} bytes")


def _chunked(req: falcon.Request) -> bool:
    return "chunked" in (req.get_header("Transfer-Encoding") or "").lower()


def _read(req: falcon.Request, most: int) -> bytes:
    """At most `most` bytes of the body.

    With a Content-Length, Falcon's bounded stream reads that many. A chunked
    body has none, and Falcon reads it as empty: read the server's decoded
    stream to its end instead, where a server that sets `wsgi.input_terminated`
    (gunicorn does) ends it after the last chunk. Without that promise reading
    on could block, so such a body is refused (411) rather than read as `{}`.
    """
    if req.content_length is not None or not _chunked(req):
        return req.bounded_stream.read(most)
    if not req.env.get("wsgi.input_terminated"):
        raise Problem(
            411, "length-required", "Length required", "send the body with a Content-Length"
        )
    chunks: list[bytes] = []
    size = 0
    while size < most:
        chunk = req.stream.read(most - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class LoadPayloads:
    def __init__(self, settings: Settings) -> None:
        self.limit = settings.max_body_bytes

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        endpoint: Endpoint | None = getattr(resource, "endpoints", {}).get(req.method)
        if endpoint is None:
            return
        req.context.query = shared(endpoint.query).load(dict(req.params))
        if endpoint.body is not None:
            req.context.payload = self._json(req)
            req.context.body = shared(endpoint.body).load(req.context.payload)

    def _json(self, req: falcon.Request) -> Any:
        if req.content_length is not None and req.content_length > self.limit:
            raise _too_large(self.limit)
        raw = _read(req, self.limit + 1)
        if len(raw) > self.limit:
            raise _too_large(self.limit)
        req.context.raw_body = raw  # exactly as sent, for signature checks
        if not raw.strip():
            return {}
        media_type = (req.content_type or "").split(";")[0].strip().lower()
        if media_type != JSON:
            raise Problem(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"send the body as {JSON}, not {media_type or 'an unnamed type'}",
            )
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise Problem(
                400, "malformed-json", "Malformed JSON", f"the body is not valid JSON: {error}"
            ) from None
