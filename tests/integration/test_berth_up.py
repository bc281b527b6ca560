"""`berth up` keeps every Procfile process running: a crashed one is restarted, the rest run on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BERTH = Path(sys.executable).with_name("berth")

STEADY = """
import os, signal, sys, time
open("steady.pids", "a").write(f"{os.getpid()}\\n")
def bye(*_):
    open("terminated", "w").write("SIGTERM")
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
while True:
    time.sleep(0.1)
"""

PROCFILE = """\
release: python -c "open('released', 'a').write('x')"
steady: python steady.py
crasher: python -c "open('crashes', 'a').write('x'); raise SystemExit(3)"
"""


def wait_until(condition, *, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_berth_up_restarts_a_crashed_process_and_leaves_the_others_running(
    db_url: str, tmp_path: Path
):
    (tmp_path / "Procfile").write_text(PROCFILE)
    (tmp_path / "steady.py").write_text(STEADY)
    crashes, pids = tmp_path / "crashes", tmp_path / "steady.pids"
    up = subprocess.Popen(
        [BERTH, "up"],
        cwd=tmp_path,
        # Text lines, as on a terminal (off one, `up` writes JSON: test_berth_up_observability)
        env=dict(os.environ, BERTH_DATABASE_URL=db_url, BERTH_LOG_FORMAT="text"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: crashes.exists() and len(crashes.read_text()) >= 3)
        assert up.poll() is None
        assert len(pids.read_text().split()) == 1  # started once, never stopped
        os.kill(int(pids.read_text()), 0)  # and still running
    finally:
        up.send_signal(signal.SIGTERM)
        output = up.communicate(timeout=60)[0].decode()

    assert up.returncode == 0, output
    assert (tmp_path / "terminated").read_text() == "SIGTERM"  # forwarded on stop
    assert (tmp_path / "released").read_text() == "x"  # the release line ran once
    assert "crasher | exited with code 3; restarting in" in output


def test_berth_up_runs_nothing_else_when_the_release_line_fails(db_url: str, tmp_path: Path):
    (tmp_path / "Procfile").write_text(
        "release: python -c 'raise SystemExit(2)'\n"
        "steady: python -c \"open('started', 'w').write('x')\"\n"
    )
    up = subprocess.run(
        [BERTH, "up"],
        cwd=tmp_path,
        env=dict(os.environ, BERTH_DATABASE_URL=db_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert up.returncode == 1
    assert up.stderr.strip().endswith(
        "berth: the release command failed: python -c 'raise SystemExit(2)'"
    )
    assert not (tmp_path / "started").exists()
