"""The gunicorn entry point: `gunicorn berth.http.wsgi:app`, configured from the environment."""

from __future__ import annotations

import logging
import os

import falcon
from psycopg_pool import ConnectionPool

from berth.adapters.database import database_url
from berth.adapters.eventstore import open_reservations, utc_now
from berth.http.app import create_app
from berth.http.settings import Services, Settings


def build() -> falcon.App[falcon.Request, falcon.Response]:
    logging.basicConfig(
        level=os.environ.get("BERTH_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    url = database_url()
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=int(os.environ.get("BERTH_READ_POOL_SIZE", "8")),
        kwargs={"autocommit": True},
        open=True,
    )
    services = Services(reservations=open_reservations(url), pool=pool, clock=utc_now)
    return create_app(Settings.from_environ(), services)


app = build()
