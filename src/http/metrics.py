"""GET /metrics: Prometheus text, every gunicorn worker's samples and the store's state."""

from __future__ import annotations

import falcon

from berth import metrics
from berth.http.settings import Services


class MetricsResource:
    """Public, as /health is: scrape it from inside the network, not through the edge."""

    def __init__(self, services: Services) -> None:
        self.registry = metrics.registry(metrics.StoreState(services.pool.connection))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = metrics.CONTENT_TYPE
        resp.data = metrics.exposition(self.registry)
