"""`berth up`'s process supervisor: every Procfile line kept running, restarted when it dies.

The `release` line runs once, first, to completion (a failure stops `up`).
Every other line runs as its own process (through `/bin/sh -c exec ...`, so
`${VAR:-default}` works and the signal reaches the program itself), with its
output prefixed by its name. A process that exits while `up` is running is
started again after a delay that doubles from `first_backoff` up to
`max_backoff` while it keeps dying quickly, and goes back to the first step
once it stayed up for `healthy_after` seconds; the others run on untouched.
On SIGTERM or SIGINT every process gets SIGTERM, then SIGKILL after `grace`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from berth.logs import PROCESS_VAR

log = logging.getLogger(__name__)

RELEASE = "release"


class ReleaseFailed(RuntimeError):
    pass


@dataclass(frozen=True, kw_only=True)
class Restarts:
    first_backoff: float = 1.0
    max_backoff: float = 30.0
    healthy_after: float = 30.0
    grace: float = 15.0

    def delay(self, quick_failures: int) -> float:
        return min(self.max_backoff, self.first_backoff * 2.0 ** min(quick_failures - 1, 32))


@dataclass
class _Child:
    name: str
    command: str
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_failures: int = 0
    restart_at: float | None = None
    starts: int = 0


class Supervisor:
    def __init__(
        self,
        processes: Sequence[tuple[str, str]],
        env: Mapping[str, str],
        *,
        release_env: Mapping[str, str] | None = None,
        restarts: Restarts = Restarts(),
        out: IO[str] = sys.stdout,
        json_lines: bool = False,
        child_env: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.release = [command for name, command in processes if name == RELEASE]
        self.children = [_Child(name, command) for name, command in processes if name != RELEASE]
        self.env = dict(env)
        # The release line migrates, as the owner; the others run as the application.
        self.release_env = dict(env if release_env is None else release_env)
        self.restarts = restarts
        self.out = out
        # JSON lines: each child's line (JSON already, or wrapped) and the supervisor's own,
        # with a "process" member instead of the name prefix.
        self.json_lines = json_lines
        # More environment for the child of that Procfile name (its metrics port, ...).
        self.child_env = {name: dict(env) for name, env in (child_env or {}).items()}
        self.width = max((len(child.name) for child in self.children), default=0)
        self._write = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """Run the release line, then keep every other line running until `stop` is set."""
        for command in self.release:
            self._say(RELEASE, f"running: {command}")
            release = subprocess.Popen(  # noqa: S603 - the operator's own Procfile
                _shell(command),
                env={**self.release_env, PROCESS_VAR: RELEASE},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            self._relay(RELEASE, release)
            if release.wait():
                raise ReleaseFailed(f"the release command failed: {command}")
        for child in self.children:
            self._start(child)
        try:
            while not stop.wait(0.2):
                for child in self.children:
                    self._tend(child)
        finally:
            self._stop_all()

    def _tend(self, child: _Child) -> None:
        now = time.monotonic()
        if child.process is None:
            if child.restart_at is not None and now >= child.restart_at:
                self._start(child)
            return
        code = child.process.poll()
        if code is None:
            return
        child.process = None
        if now - child.started >= self.restarts.healthy_after:
            child.quick_failures = 0
        child.quick_failures += 1
        delay = self.restarts.delay(child.quick_failures)
        child.restart_at = now + delay
        self._say(child.name, f"exited with code {code}; restarting in {delay:.1f} s")

    def _start(self, child: _Child) -> None:
        env = {**self.env, PROCESS_VAR: child.name, **self.child_env.get(child.name, {})}
        child.process = subprocess.Popen(  # noqa: S603 - the operator's own Procfile
            _shell(child.command),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal's Ctrl-C reaches `up` only, which forwards it
        )
        child.started, child.restart_at = time.monotonic(), None
        child.starts += 1
        self._say(child.name, f"started with pid {child.process.pid}")
        threading.Thread(target=self._relay, args=(child.name, child.process), daemon=True).start()

    def _relay(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._say(name, line.decode(errors="replace").rstrip("\n"))

    def _say(self, name: str, text: str) -> None:
        line = _json_line(name, text) if self.json_lines else f"{name:<{self.width}} | {text}"
        with self._write:
            self.out.write(line + "\n")
            self.out.flush()

    def _stop_all(self) -> None:
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            assert child.process is not None
            self._say(child.name, "stopping (SIGTERM)")
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.restarts.grace
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(child.name, f"still running after {self.restarts.grace:.0f} s: SIGKILL")
                _signal(child.process, signal.SIGKILL)
                child.process.wait()
            self._say(child.name, f"stopped with code {child.process.returncode}")


def _json_line(name: str, text: str) -> str:
    """A child's JSON line with its process name, or its plain text as a JSON line."""
    try:
        line = json.loads(text)
    except ValueError:
        line = None
    if not isinstance(line, dict):
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "berth.supervisor",
            "message": text,
        }
    line.setdefault("process", name)
    return json.dumps(line)


def _shell(command: str) -> list[str]:
    return ["/bin/sh", "-c", f"exec {command}"]


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)  # the process and anything it left behind
