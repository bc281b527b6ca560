"""Real gunicorn, real sockets: the production entry point serves the API."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from berth.adapters.postgres import apikeys

REPO = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = "python:berth.http.gunicorn_config"  # as the Procfile's web line names it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def request(
    url: str, *, method: str = "GET", body: bytes | None = None, token: str | None = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, _lower(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), json.loads(error.read())


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, BERTH_DATABASE_URL=db_url)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
            *("--config", GUNICORN_CONFIG),
            *("--workers", "1", "--threads", "2", "berth.http.wsgi:app"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if request(f"{base}/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                _, errors = process.communicate(timeout=5)
                pytest.fail(f"gunicorn did not come up: {errors.decode()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_gunicorn_serves_commands_queries_and_problems(server: str, db_url: str):
    with psycopg.connect(db_url, autocommit=True) as conn:
        _, token = apikeys.create_key(conn, role="admin")
    status, headers, facility = request(
        f"{server}/facilities",
        method="POST",
        body=json.dumps({"name": "Quay", "time_zone": "Europe/Dublin"}).encode(),
        token=token,
    )
    assert status == 201, facility
    assert headers["location"] == f"/facilities/{facility['id']}"
    assert headers["x-request-id"]
    status, headers, problem = request(
        f"{server}/facilities", method="POST", body=b"{nope", token=token
    )
    assert (status, headers["content-type"]) == (400, "application/problem+json")
    assert problem["type"].endswith("/malformed-json")
    status, _, unauthenticated = request(f"{server}/projections")
    assert status == 401 and unauthenticated["type"].endswith("/unauthenticated")
    status, _, document = request(f"{server}/openapi.json")
    assert status == 200 and "/bookings" in document["paths"]
    status, _, projections = request(f"{server}/projections", token=token)
    assert status == 200 and projections["projections"]


def test_the_procfile_runs_gunicorn_with_the_tested_config():
    web = dict(line.split(":", 1) for line in (REPO / "Procfile").read_text().splitlines())["web"]
    assert f"--config {GUNICORN_CONFIG}" in web


def test_gunicorn_passes_chunked_bodies_and_long_headers_to_the_app(server: str, db_url: str):
    """A chunked body was read as `{}`; a 9,000-character token got gunicorn's HTML 431."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        _, token = apikeys.create_key(conn, role="admin")
    body = json.dumps({"name": "Chunked quay", "time_zone": "Europe/Dublin"}).encode()
    connection = http.client.HTTPConnection(server.removeprefix("http://"), timeout=10)
    try:
        connection.request(
            "POST",
            "/facilities",
            body=iter([body[:10], body[10:]]),  # no length known: sent chunked
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        created = json.loads(answer.read())
    finally:
        connection.close()
    assert answer.status == 201, created
    assert created["name"] == "Chunked quay"

    status, headers, problem = request(f"{server}/projections", token="x" * 9000)
    assert (status, headers["content-type"]) == (431, "application/problem+json"), problem
    assert problem["type"].endswith("/header-too-large")
