"""The gunicorn entry point of both faces: `gunicorn berth.wsgi:app`.

Requests under /ops go to the staff screen (`berth.web`), everything else to the
API (`berth.http`). The two are separate Falcon apps, each with its own
middleware (API keys and JSON there, sessions and forms here), built on one
command application and one read pool, so one gunicorn serves both and a page
reads exactly what the API reads. `berth.http.wsgi:app` still serves the API alone.

"""

from __future__ import annotations

from berth import config, heap, logs
from berth.adapters.postgres.database import database_url, request_pool
from berth.adapters.postgres.eventstore import open_reservations, utc_now
from berth.http.app import create_app as create_api
from berth.http.settings import Services, Settings
from berth.web.app import create_app as create_screen
from berth.web.by_prefix import ByPrefix, Wsgi
from berth.web.settings import PREFIX, Screen, ScreenSettings


def build() -> Wsgi:
    """As `berth.http.wsgi.build`, plus the screen on the same application and pool."""
    settings = config.load()
    logs.setup(settings)
    url = database_url(settings)
    pool = request_pool(url, max_size=settings.read_pool_size)
    services = Services(reservations=open_reservations(url), pool=pool, clock=utc_now)
    api = create_api(Settings.from_environ(settings), services)
    screen = create_screen(
        Screen(reservations=services.reservations, pool=services.pool, clock=services.clock),
        ScreenSettings.from_environ(),
    )
    return ByPrefix(PREFIX, screen, api)


app = build()
heap.settle()  # what startup made is never garbage: full collections skip it
