"""The gunicorn entry point of both faces: `gunicorn berth.wsgi:app`.

Requests under /ops go to the staff screen (`berth.web`), everything else to the
API (`berth.http`). The two are separate Falcon apps, each with its own
middleware (API keys and JSON there, sessions and forms here), built on one
command application and one read pool, so one gunicorn serves both and a page
reads exactly what the API reads. `berth.http.wsgi:app` still serves the API alone.

"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from berth.adapters.postgres.database import database_url, request_pool
from berth.adapters.postgres.eventstore import open_reservations, utc_now
from berth.http.app import create_app as create_api
from berth.http.settings import Services, Settings
from berth.web.app import create_app as create_screen
from berth.web.settings import PREFIX, Screen, ScreenSettings

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


def build() -> Wsgi:
    """As `berth.http.wsgi.build`, plus the screen on the same application and pool."""
    logging.basicConfig(
        level=os.environ.get("BERTH_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    url = database_url()
    pool = request_pool(url, max_size=int(os.environ.get("BERTH_READ_POOL_SIZE", "8")))
    services = Services(reservations=open_reservations(url), pool=pool, clock=utc_now)
    api = create_api(Settings.from_environ(), services)
    screen = create_screen(
        Screen(reservations=services.reservations, pool=services.pool, clock=services.clock),
        ScreenSettings.from_environ(),
    )
    return ByPrefix(PREFIX, screen, api)


app = build()
