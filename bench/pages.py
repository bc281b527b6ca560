"""CPU per page of a projection runner following live traffic, pages the size a burst makes.

    .venv/bin/python bench/pages.py [--pairs 2000] [--page-size 12] [--rounds 3]

Fills a scratch database with `--pairs` holds and confirms (bench/command_cpu.py's,
in this process), then, for the availability and bookings projections in turn,
`--rounds` times: forgets the projection (its position and tables) and applies
the whole log again in pages of `--page-size` notifications, the size a live
runner's pages had in bench/api.py at half the flat-out rate (11-13). It prints
the CPU each page cost, in this process and in the backends. Run it on two
revisions (a worktree's src as `berth` on PYTHONPATH) to compare.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import CpuMeter, scratch_database

NAMES = ("availability", "bookings")


def forget(url: str, name: str, tables: tuple[str, ...]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM projection_positions WHERE projection = %s", (name,))
        for table in tables:
            conn.execute(f"TRUNCATE {table}".encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    url = scratch_database("berth_bench_pages")
    os.environ["BERTH_DATABASE_URL"] = url
    from berth.adapters.read_models.tables import TABLES  # noqa: PLC0415
    from berth.adapters.tracking.projection_store import event_mapper  # noqa: PLC0415
    from berth.workers import PROJECTIONS  # noqa: PLC0415
    from berth.workers.projection_runner import ProjectionRunner  # noqa: PLC0415
    from command_cpu import Berth  # noqa: PLC0415

    berth = Berth(url)
    for n in range(args.pairs):
        berth.pair()
        if n % 100 == 0 or n == args.pairs - 1:
            sys.stderr.write(f"\r  fill: {n + 1:,}/{args.pairs:,} holds and confirms   ")
    sys.stderr.write("\n")

    mapper = event_mapper()
    rows = []
    for round_ in range(args.rounds):
        for name in NAMES:
            forget(url, name, tuple(TABLES[name]))
            runner = ProjectionRunner(url, PROJECTIONS[name], mapper, page_size=args.page_size)
            with psycopg.connect(url) as conn:
                meter = CpuMeter(url)
                position, pages = 0, 0
                while True:
                    result = runner.advance(conn, position)
                    if not result.notifications:
                        break
                    position, pages = result.position, pages + 1
                    if pages % 200 == 0:
                        sys.stderr.write(f"\r  round {round_ + 1}, {name}: {pages:,} pages   ")
                here, backends = meter.per_operation(pages)
            sys.stderr.write(f"\r  round {round_ + 1}, {name}: {pages:,} pages done   \n")
            rows.append((round_ + 1, name, pages, here, backends))

    print(f"\nprojection pages of {args.page_size} notifications, {args.pairs:,} pairs\n")
    print("| round | projection | pages | ms per page, this process | backends | total |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    for round_, name, pages, here, backends in rows:
        print(f"| {round_} | {name} | {pages:,} | {here:.3f} | {backends:.3f} |"
              f" {here + backends:.3f} |")  # fmt: skip


if __name__ == "__main__":
    main()
