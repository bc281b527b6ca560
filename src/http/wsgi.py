"""The gunicorn entry point: `gunicorn berth.http.wsgi:app`, configured from the environment."""

from __future__ import annotations

import logging
import os

import falcon

from berth.adapters.postgres.database import database_url, request_pool
from berth.adapters.postgres.eventstore import open_reservations, utc_now
from berth.http.app import create_app
from berth.http.settings import Services, Settings


def build() -> falcon.App[falcon.Request, falcon.Response]:
    logging.basicConfig(
        level=os.environ.get("BERTH_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    url = database_url()
    pool = request_pool(url, max_size=int(os.environ.get("BERTH_READ_POOL_SIZE", "8")))
    services = Services(reservations=open_reservations(url), pool=pool, clock=utc_now)
    return create_app(Settings.from_environ(), services)


app = build()
