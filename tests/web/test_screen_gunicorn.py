"""Real gunicorn running the Procfile's web line (`berth.wsgi:app`): the API and the screen."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest

from berth.adapters.staff import users

REPO = Path(__file__).resolve().parents[2]


def _procfile_app() -> str:
    line = next(
        line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    return line.split()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"),
            *("--config", "python:berth.http.gunicorn_config"),
            *("--workers", "1", "--threads", "2", _procfile_app()),
        ],
        cwd=REPO,
        env=dict(os.environ, BERTH_DATABASE_URL=db_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as answer:
                    if answer.status == 200:
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


def test_one_gunicorn_serves_the_api_and_the_staff_screen(server: str, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        users.create_user(conn, username="ada", role="operations", password="a long password")
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with browser.open(f"{server}/ops/login") as page:
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.read().decode())
    assert token
    form = {"csrf_token": token.group(1), "username": "ada", "password": "a long password"}
    with browser.open(f"{server}/ops/login", data=urllib.parse.urlencode(form).encode()) as home:
        assert home.status == 200 and home.url == f"{server}/ops/"  # after the 303
        assert "ada (operations)" in home.read().decode()
    with pytest.raises(urllib.error.HTTPError) as unauthenticated:
        browser.open(f"{server}/projections")  # the API still wants an API key
    assert unauthenticated.value.code == 401
    assert unauthenticated.value.headers["content-type"] == "application/problem+json"
