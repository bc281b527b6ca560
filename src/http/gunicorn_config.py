"""gunicorn settings of the web process: `gunicorn --config python:berth.http.gunicorn_config`.

A header line may be up to GUNICORN_FIELD_BYTES, so headers longer than the
app's own bound (berth.http.header_limits) reach the app and get a problem+json
431, or a 401 for an over-long API key, instead of gunicorn's HTML 431.

Logs go through `berth.http.gunicorn_logging` (JSON lines off a terminal, the
access log with duration and request id). Metrics run in prometheus-client's
multiprocess mode: every worker writes to ``PROMETHEUS_MULTIPROC_DIR`` (a fresh
temporary directory when unset, emptied at start when set) and /metrics adds
them up; a dead worker's live gauges are dropped.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from berth.http.gunicorn_logging import TEXT_ACCESS_FORMAT
from berth.http.header_limits import GUNICORN_FIELD_BYTES

limit_request_field_size = GUNICORN_FIELD_BYTES
logger_class = "berth.http.gunicorn_logging.Logger"
access_log_format = TEXT_ACCESS_FORMAT

_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def on_starting(server: Any) -> None:
    """Before any worker: a clean multiprocess directory (stale files would count twice)."""
    configured = os.environ.get(_MULTIPROC)
    if configured:
        shutil.rmtree(configured, ignore_errors=True)
        Path(configured).mkdir(parents=True, exist_ok=True)
    else:
        os.environ[_MULTIPROC] = tempfile.mkdtemp(prefix="berth-metrics-")
    # This module's package already imported prometheus_client, which chose its
    # in-memory values then; the labelled children every Berth metric has are made
    # later, in the workers, from whatever `values.ValueClass` is by then.
    from prometheus_client import values  # noqa: PLC0415

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess  # noqa: PLC0415 - after the directory is set

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
