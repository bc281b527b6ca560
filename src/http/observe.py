"""Every request measured and logged: its latency by route template, a command's outcome by
problem code, idempotency replays, gate decisions, the read pool's use; and its ids and
principal bound to the log lines it causes (`berth.logs`) and handed to the access log.
"""

from __future__ import annotations

import json
import time
from typing import Any

import falcon
from psycopg_pool import ConnectionPool

from berth import logs, metrics

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
GATE_READS_ROUTE = "/gates/{gate_id:uuid}/reads"
REPLAYED = "Idempotency-Replayed"
UNMATCHED = "unmatched"  # the route label of a request no route matched (404)
# WSGI environ keys the gunicorn access log reads (berth.http.gunicorn_logging).
PRINCIPAL_KEY = "berth.principal"
ROUTE_KEY = "berth.route"


class Observe:
    """Falcon middleware; listed after RequestIds and Authenticate (their ids and caller)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.observe_started = time.perf_counter()
        req.context.observe_log = logs.context(
            request_id=getattr(req.context, "request_id", None),
            correlation_id=getattr(req.context, "correlation_id", None),
        )
        req.context.observe_log.__enter__()

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        caller = getattr(req.context, "caller", None)
        if caller is not None:
            req.env[PRINCIPAL_KEY] = caller.key.key_id
            logs.bind(principal=caller.key.key_id)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        started = getattr(req.context, "observe_started", None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        route = req.uri_template if resource is not None and req.uri_template else UNMATCHED
        req.env[ROUTE_KEY] = route
        status = resp.status_code
        metrics.REQUEST_SECONDS.labels(req.method, route, str(status)).observe(seconds)
        if route != UNMATCHED and req.method in COMMAND_METHODS:
            command = f"{req.method} {route}"
            metrics.COMMANDS.labels(command, outcome(resp, status)).inc()
            if resp.get_header(REPLAYED):
                metrics.IDEMPOTENCY_REPLAYS.labels(command).inc()
            if route == GATE_READS_ROUTE and status < 300:
                decision = _decision(resp)
                if decision is not None:
                    metrics.GATE_DECISION_SECONDS.labels(decision).observe(seconds)
        self._pool_use()
        req.context.observe_log.__exit__(None, None, None)

    def _pool_use(self) -> None:
        stats = self.pool.get_stats()
        size = stats.get("pool_size", 0)
        idle = stats.get("pool_available", 0)
        metrics.DB_POOL_CONNECTIONS.labels("open").set(size)
        metrics.DB_POOL_CONNECTIONS.labels("idle").set(idle)
        metrics.DB_POOL_CONNECTIONS.labels("waiting").set(stats.get("requests_waiting", 0))


def outcome(resp: falcon.Response, status: int) -> str:
    """``ok``, or the problem code of an error answer (its `type`'s last segment)."""
    if status < 400:
        return "ok"
    try:
        problem = json.loads(resp.data or b"{}")
    except ValueError:
        problem = {}
    kind = problem.get("type") if isinstance(problem, dict) else None
    return str(kind).rsplit("/", 1)[-1] if kind else f"http-{status}"


def _decision(resp: falcon.Response) -> str | None:
    media = resp.media if isinstance(resp.media, dict) else {}
    decision = media.get("decision")
    return decision if decision in ("open", "deny") else None
