"""An installed Berth carries its migrations and Procfile: built as a wheel, installed into
a fresh virtual environment outside the checkout, it migrates a database."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
# What a clean clone holds that the build reads.
SOURCES = ("setup.cfg", "setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "Procfile")


def build_wheel(workdir: Path) -> Path:
    source = workdir / "source"
    source.mkdir()
    for name in SOURCES:
        shutil.copy2(REPO / name, source / name)
    for tree in ("src", "migrations"):
        shutil.copytree(REPO / tree, source / tree, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", workdir, source],
        check=True,
        capture_output=True,
    )
    (wheel,) = workdir.glob("berth-*.whl")
    return wheel


def fresh_venv(workdir: Path, wheel: Path) -> Path:
    """A new environment with the wheel; its dependencies seen from this one's site-packages
    (added as a plain path, so this environment's editable Berth is not)."""
    venv = workdir / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
    )
    purelib = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "berth-test-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n"
    )
    return venv


def test_the_wheel_ships_every_migration_and_the_procfile_and_migrates_from_elsewhere(
    tmp_path: Path, empty_db_url: str
):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"berth/migrations/{p.relative_to(REPO / 'migrations')}" for p in
               (REPO / "migrations").rglob("*.sql")}  # fmt: skip
    assert shipped, "no migrations in the checkout?"
    assert shipped <= names
    assert "berth/Procfile" in names

    venv = fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "PYTHON"))}
    env["BERTH_DATABASE_URL"] = empty_db_url
    berth = venv / "bin" / "berth"
    located = subprocess.run(
        [venv / "bin" / "python", "-c",
         "import berth, berth.cli; print(berth.__file__);"
         "print(berth.cli.procfile_processes()[0])"],
        cwd=elsewhere, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert str(venv) in located.splitlines()[0]  # the installed copy, not the checkout
    assert "berth migrate" in located  # the release line of the shipped Procfile

    migrated = subprocess.run(
        [berth, "migrate"], cwd=elsewhere, env=env, check=True, capture_output=True, text=True
    )

    applied = json.loads(migrated.stdout)["applied"]
    assert len(applied) == len(list((REPO / "migrations").glob("*.sql")))
    with psycopg.connect(empty_db_url) as conn:
        count = conn.execute("SELECT count(*) FROM berth_migrations").fetchone()
    assert count == (len(applied),)
    assert not (elsewhere / "var").exists()  # no embedded server was started
