"""Two WSGI apps under one server: a path prefix picks which answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ByPrefix:
    """Sends a request whose path is below `prefix` to `inner`, the rest to `outer`
    (the bare prefix is redirected to `prefix/`)."""

    def __init__(self, prefix: str, inner: Wsgi, outer: Wsgi) -> None:
        self.prefix = prefix
        self.inner = inner
        self.outer = outer

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path: str = environ.get("PATH_INFO", "")
        if path == self.prefix:
            start_response("308 Permanent Redirect", [("Location", f"{self.prefix}/")])
            return [b""]
        if path.startswith(self.prefix + "/"):
            return self.inner(environ, start_response)
        return self.outer(environ, start_response)
