"""A short `berth up --log-json`: every line it prints is JSON, each naming its process, and
a worker serves its metrics on the port `up` gave it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BERTH = Path(sys.executable).with_name("berth")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except OSError:
        return 0, ""


def test_berth_up_logs_json_lines_and_workers_serve_metrics(db_url: str, tmp_path: Path):
    lines = dict(line.split(":", 1) for line in (REPO / "Procfile").read_text().splitlines())
    (tmp_path / "Procfile").write_text(
        f"release:{lines['release']}\nweb:{lines['web']}\nbookings:{lines['bookings']}\n"
    )
    web, worker = free_port(), free_port()
    env = dict(os.environ, BERTH_DATABASE_URL=db_url, BERTH_PORT=str(web))
    env["BERTH_METRICS_PORT"] = str(worker)
    up = subprocess.Popen(
        [BERTH, "--log-json", "up"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not (
            get(f"http://127.0.0.1:{web}/health")[0] == 200
            and "berth_projection_position" in get(f"http://127.0.0.1:{worker}/metrics")[1]
        ):
            assert up.poll() is None, "berth up stopped"
            assert time.monotonic() < deadline, "berth up did not come up"
            time.sleep(0.2)
        worker_metrics = get(f"http://127.0.0.1:{worker}/metrics")[1]
    finally:
        up.send_signal(signal.SIGTERM)
        output = up.communicate(timeout=60)[0].decode()

    assert up.returncode == 0, output[-3000:]
    parsed = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    processes = {line.get("process") for line in parsed}
    assert {"release", "web", "bookings"} <= processes, processes
    assert any(line.get("worker") == "bookings" for line in parsed)
    assert 'berth_projection_lag_events{projection="bookings"}' in worker_metrics
