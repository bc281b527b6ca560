"""A long-running process freezes its startup heap (berth.heap), so full collections skip it.

Each check runs a fresh interpreter, as gunicorn's worker or `berth worker` is: a
freeze in this test process would keep its objects from ever being collected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Prints what the collector tracks (what a full collection walks) and what is frozen.
COUNTS = "import gc, json; print(json.dumps([len(gc.get_objects()), gc.get_freeze_count()]))"


def counts(code: str, db_url: str) -> tuple[int, int]:
    """The COUNTS that `code` (which runs them) printed first, in a fresh interpreter."""
    env = dict(os.environ, BERTH_DATABASE_URL=db_url, BERTH_LOG_LEVEL="WARNING")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    walked, frozen = json.loads(out.splitlines()[0])
    return walked, frozen


@pytest.mark.parametrize("entry", ["berth.wsgi", "berth.http.wsgi"])
def test_a_web_worker_that_built_its_app_has_its_startup_heap_frozen(
    entry: str, db_url: str
) -> None:
    walked, frozen = counts(f"import {entry}\n{COUNTS}", db_url)

    assert frozen > 10_000  # modules, classes, routes, schemas
    assert walked < frozen / 10  # what a full collection still walks: made since


def test_berth_worker_freezes_its_startup_heap_before_it_runs_the_worker(db_url: str) -> None:
    # `berth worker NAME` as the Procfile runs it, with the loop replaced by the counts.
    started = (
        "from berth import cli, workers\n"
        f"workers.run_worker = lambda name, url: exec({COUNTS!r})\n"
        "cli.main(['worker', 'availability'])"
    )
    walked, frozen = counts(started, db_url)

    assert frozen > 10_000
    assert walked < frozen / 10


def test_without_settling_nothing_is_frozen(db_url: str) -> None:
    # The interpreter freezes nothing by itself: the counts above are Berth's doing.
    walked, frozen = counts(f"import berth.http.app\n{COUNTS}", db_url)

    assert frozen == 0
    assert walked > 10_000
