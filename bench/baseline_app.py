"""The raw baseline for bench/api.py: Falcon under gunicorn saving one aggregate per POST.

Same server settings and same event table as Berth, nothing else: no auth, no
schemas, no read models. `gunicorn bench.baseline_app:app` with BERTH_DATABASE_URL.
"""

from __future__ import annotations

import os

import falcon
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from berth.adapters.postgres.database import eventsourcing_environment


class Counter(Aggregate):
    def __init__(self, n: int) -> None:
        self.n = n


class Berth(Application[object]):
    """Named like Berth's application so it writes to the same berth_events table."""


store = Berth(eventsourcing_environment(os.environ["BERTH_DATABASE_URL"]))


class Save:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.get_media()
        recordings = store.save(Counter(int(body.get("n", 0))))
        resp.status = 201
        resp.media = {"position": recordings[-1].notification.id}


app = falcon.App()
app.add_route("/save", Save())
