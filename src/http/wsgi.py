"""The gunicorn entry point: `gunicorn berth.http.wsgi:app`, configured from the environment."""

from __future__ import annotations

import falcon

from berth import config, heap, logs
from berth.adapters.postgres.database import database_url, request_pool
from berth.adapters.postgres.eventstore import open_reservations, utc_now
from berth.http.app import create_app
from berth.http.settings import Services, Settings


def build() -> falcon.App[falcon.Request, falcon.Response]:
    settings = config.load()
    logs.setup(settings)
    url = database_url(settings)
    pool = request_pool(url, max_size=settings.read_pool_size)
    services = Services(reservations=open_reservations(url), pool=pool, clock=utc_now)
    return create_app(Settings.from_environ(settings), services)


app = build()
heap.settle()  # what startup made is never garbage: full collections skip it
