"""The screen's static files (htmx, the style sheet), served from the package: no CDN."""

from __future__ import annotations

import functools
from importlib import resources

import falcon

TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@functools.cache
def _files() -> dict[str, bytes]:
    folder = resources.files("berth.web") / "static"
    return {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and any(entry.name.endswith(suffix) for suffix in TYPES)
    }


class StaticResource:
    public = True

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        body = _files().get(name)
        if body is None:
            raise falcon.HTTPNotFound(title="No such file")
        resp.content_type = TYPES[name[name.rindex(".") :]]
        resp.data = body
        resp.set_header("Cache-Control", "public, max-age=3600")
