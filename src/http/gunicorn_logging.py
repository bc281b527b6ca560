"""gunicorn's logger in Berth's format: JSON lines when `berth.logs` says so, the access log
with each request's duration, request id, route template and principal."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

from berth import config, logs
from berth.http.observe import PRINCIPAL_KEY, ROUTE_KEY

# The text access line, when the terminal gets text: gunicorn's fields, the duration
# in milliseconds and the request id.
TEXT_ACCESS_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'


class Logger(GunicornLogger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        settings = config.load()
        self.json_lines = logs.wants_json(settings)
        if self.json_lines:
            for logger in (self.error_log, self.access_log):
                for handler in logger.handlers:
                    handler.setFormatter(logs.JsonFormatter(settings.process))

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.json_lines:
            super().access(resp, req, environ, request_time)
            return
        if not self.cfg.accesslog:
            return
        headers = {name.lower(): value for name, value in resp.headers}
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "route": environ.get(ROUTE_KEY),
            "status": resp.status_code,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "bytes": getattr(resp, "sent", None),
            "remote": environ.get("REMOTE_ADDR"),
            "request_id": headers.get("x-request-id"),
            "correlation_id": headers.get("x-correlation-id"),
            "principal": environ.get(PRINCIPAL_KEY),
        }
        message = f"{fields['method']} {fields['path']} {fields['status']}"
        self.access_log.log(logging.INFO, message, extra={"fields": fields})
