"""The API's version: a dated `Berth-Version` header on every answer, and optionally on requests.

Every answer says which version of the API produced it (`Berth-Version:
2026-12-01`). A client may pin the version it was written against by sending
the same header; a version this server does not serve is refused with 400
`unsupported-version` (naming the ones it does), before anything is read or
stored. A change that would break a client gets a new date; additions (new
endpoints, new fields in answers, new optional parameters) do not.
"""

from __future__ import annotations

from typing import Any

import falcon

from berth.http.problems import Problem

HEADER = "Berth-Version"
CURRENT = "2026-12-01"
SUPPORTED = (CURRENT,)


class ApiVersion:
    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        asked = req.get_header(HEADER)
        if asked is not None and asked.strip() not in SUPPORTED:
            raise Problem(
                400,
                "unsupported-version",
                "Unsupported API version",
                f"this server answers {HEADER} {', '.join(SUPPORTED)}; got {asked[:40]!r}",
                supported=list(SUPPORTED),
            )

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        resp.set_header(HEADER, CURRENT)
