"""Under real gunicorn (two workers): /metrics adds up every worker's counters, and every
line the web process writes is JSON, the access log with duration, request id and principal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
from test_http_gunicorn import GUNICORN_CONFIG, REPO, free_port, request

from berth.adapters.postgres import apikeys


def scrape(base: str) -> str:
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
        text: str = answer.read().decode()
        return text


def value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_add_up_over_workers_and_every_line_is_json(db_url: str, tmp_path: Path):
    with psycopg.connect(db_url, autocommit=True) as conn:
        key, token = apikeys.create_key(conn, role="admin")
    port = free_port()
    env = dict(os.environ, BERTH_DATABASE_URL=db_url, BERTH_LOG_FORMAT="json")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    log = (tmp_path / "web.log").open("w+")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
            *("--config", GUNICORN_CONFIG, "--access-logfile", "-"),
            *("--workers", "2", "--threads", "2", "berth.http.wsgi:app"),
        ],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    ok = 'berth_commands_total{command="POST /facilities",outcome="ok"}'
    bad = 'berth_commands_total{command="POST /facilities",outcome="malformed-json"}'
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if request(f"{base}/health")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "gunicorn not up"
            time.sleep(0.1)
        before = scrape(base)
        body = json.dumps({"name": "Quay", "time_zone": "UTC"}).encode()
        answers = [
            request(f"{base}/facilities", method="POST", body=body, token=token) for _ in range(6)
        ]
        assert {status for status, _, _ in answers} == {201}
        refused = request(f"{base}/facilities", method="POST", body=b"{no", token=token)
        assert refused[0] == 400
        after = scrape(base)
    finally:
        process.terminate()
        process.wait(timeout=15)

    assert value(after, ok) - value(before, ok) == 6  # whichever worker served each
    assert value(after, bad) - value(before, bad) == 1
    assert "berth_projection_position{" in after
    log.seek(0)
    lines = [json.loads(line) for line in log.read().splitlines()]  # every line is JSON
    access = [line for line in lines if line.get("route") == "/facilities"]
    request_ids = {headers["x-request-id"] for _, headers, _ in answers}
    assert {line["request_id"] for line in access} >= request_ids
    created = [line for line in access if line["request_id"] in request_ids]
    assert all(line["principal"] == key.key_id for line in created)
    assert all(line["status"] == 201 and line["duration_ms"] > 0 for line in created)
    assert {line["pid"] for line in lines if line.get("logger") == "gunicorn.error"}
