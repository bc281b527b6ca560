"""Garbage-collector pauses in a web worker, its startup heap frozen (`berth.heap`) or not.

    .venv/bin/python bench/gc_pauses.py [--pairs 6000] [--rounds 2]

A full (generation 2) collection holds the GIL while it walks every tracked
object, so every thread of a gunicorn worker (a query behind a command too)
waits for it. For each round, two fresh processes, alternating: each builds
Berth's API as a gunicorn worker does (importing `berth.http.wsgi`, which
settles the heap), and for the rows "not frozen" undoes that at once
(`gc.unfreeze`); then it sends `--pairs` holds and confirms in one thread, as
bench/command_cpu.py does, and times every collection (`gc.callbacks`). Printed
per generation: collections, their total and longest pause; and the objects a
full collection walks at the end, beside those frozen.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def child(frozen: bool, pairs: int) -> dict[str, object]:
    """One process's pauses (ms) by generation, while it sends `pairs` pairs."""
    from command_cpu import Berth  # noqa: PLC0415 - imports the API, which settles the heap
    from common import scratch_database  # noqa: PLC0415

    url = scratch_database("berth_bench_gc_pauses")
    os.environ.update(BERTH_DATABASE_URL=url, BERTH_LOG_LEVEL="WARNING")
    berth = Berth(url)
    if not frozen:
        gc.unfreeze()
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses[info["generation"]].append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(timed)
    for n in range(pairs):
        berth.pair()
        if n % 500 == 0 or n == pairs - 1:
            setting = "frozen" if frozen else "not frozen"
            sys.stderr.write(f"\r  {setting}: {n + 1:,}/{pairs:,} pairs ")
    sys.stderr.write("\n")
    gc.callbacks.remove(timed)
    return {
        "pauses": pauses,
        "walked": len(gc.get_objects()),
        "frozen": gc.get_freeze_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["frozen", "not-frozen"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child == "frozen", args.pairs)))
        return

    rows: list[tuple[str, dict[str, object]]] = []
    for round_number in range(1, args.rounds + 1):
        for setting in ("not-frozen", "frozen"):
            sys.stderr.write(f"round {round_number}, {setting}\n")
            done = subprocess.run(
                [sys.executable, __file__, "--child", setting, "--pairs", str(args.pairs)],
                check=True,
                stdout=subprocess.PIPE,
            )
            rows.append((setting, json.loads(done.stdout)))

    print(
        f"\nCollector pauses over {args.pairs:,} holds + confirms in one thread,"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (ms)\n\n"
        "| startup heap | generation 0: n, total, max | generation 1 | full (2) | objects a"
        " full collection walks at the end | frozen |\n"
        "| --- | --- | --- | --- | ---: | ---: |"
    )
    for setting, row in rows:
        pauses: dict[str, list[float]] = row["pauses"]  # type: ignore[assignment]
        cells = [
            f"{len(p)}, {sum(p):.0f}, {max(p, default=0):.1f}"
            for p in (pauses[str(g)] for g in range(3))
        ]
        print(
            f"| {setting.replace('-', ' ')} | {' | '.join(cells)} | {row['walked']:,}"
            f" | {row['frozen']:,} |"
        )


if __name__ == "__main__":
    main()
