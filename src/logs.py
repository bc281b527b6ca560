"""Log lines: JSON (one object a line) or text, the same for every Berth process.

``BERTH_LOG_FORMAT`` chooses: ``json``, ``text``, or ``auto`` (the default):
text when stderr is a terminal, JSON otherwise (under `berth up`, a platform,
a container). The CLI's ``--log-json`` forces JSON. Each JSON line has
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``process`` (the
Procfile name when `berth up` started it, else the program), ``pid``, and what
`context` bound for the current request or command: ``request_id``,
``correlation_id``, ``principal``; an exception adds ``exception``. Fields
passed as ``extra={"fields": {...}}`` are added as they are (the access log's
``status``, ``duration_ms``, ...).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from berth import config

# The Procfile name of this process (`berth up` sets it for each child).
PROCESS_VAR = config.variable("process")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("berth_log_context")


@contextlib.contextmanager
def context(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` (request_id, correlation_id, principal, ...) to every line logged
    within, in this thread or task; None values are left out."""
    token = _context.set(_context.get({}) | {k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: str | None) -> None:
    """Add ``fields`` to the current context until it ends (e.g. the principal, once known)."""
    _context.set(_context.get({}) | {k: v for k, v in fields.items() if v is not None})


def current() -> dict[str, str]:
    return dict(_context.get({}))


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str = "") -> None:
        super().__init__()
        self.process = process or os.path.basename(sys.argv[0] or "python")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": self.process,
            "pid": record.process,
        }
        line.update(_context.get({}))
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def wants_json(settings: config.Config, *, forced: bool = False) -> bool:
    if forced or settings.log_format == "json":
        return True
    if settings.log_format == "text":
        return False
    return not sys.stderr.isatty()


def formatter(settings: config.Config, *, forced: bool = False) -> logging.Formatter:
    return (
        JsonFormatter() if wants_json(settings, forced=forced) else logging.Formatter(TEXT_FORMAT)
    )


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Berth's stderr handler: `setup` replaces only this, never another's (pytest's).

    It writes to whatever `sys.stderr` is when it emits, not the one it was made
    with: a stream swapped out and closed since (a test's capture) must not turn
    a worker thread's next line into a logging error.
    """

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _stream: Any) -> None:
        pass  # StreamHandler sets it; sys.stderr is always the one


def setup(settings: config.Config | None = None, *, json_lines: bool = False) -> None:
    """Log to stderr at ``BERTH_LOG_LEVEL`` in the chosen format (again: the same handler)."""
    settings = settings or config.load()
    handler = _Handler()
    handler.setFormatter(formatter(settings, forced=json_lines))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
