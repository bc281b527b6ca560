"""The instructions one command request costs, counted by valgrind, beside the raw baseline's save.

    .venv/bin/python bench/command_instructions.py [--pairs 100] [--against REV]

bench/command_cpu.py times CPU, which on this shared 2-core machine moves by 5-10%
between runs: more than one small change saves. This counts the instructions
this process executes instead (`valgrind --tool=callgrind`), which repeat to
within a fraction of a percent whatever else the machine does. The PostgreSQL
backends are not counted (bench/command_cpu.py reports their CPU).

Each figure is two runs under valgrind of the same requests as bench/command_cpu.py
(baseline: POST /save; Berth: a hold then its confirm), a short one and a long
one after the same warm-up; the difference divided by the extra requests is the
cost of a request, without the cost of starting Python and building the app.

With `--against REV`, Berth as it was at that revision (its src and migrations,
from git) is counted too, in the same run: what a change saved.
Runs go two at a time; each takes minutes (valgrind runs Python about 50x slower).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 50
SHORT = 20
COLLECTED = re.compile(r"Collected : (\d+)")


def run_inside(kind: str, count: int, src: str | None) -> None:
    """Under valgrind: warm up, then make `count` requests (Berth: `count` pairs)."""
    if src:  # Berth from another checkout's src, as the package `berth`
        spec = importlib.util.spec_from_file_location(
            "berth", f"{src}/__init__.py", submodule_search_locations=[src]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["berth"] = module
        spec.loader.exec_module(module)
    sys.path.insert(0, str(Path(__file__).parent))
    sys.path.insert(0, str(ROOT))
    from common import scratch_database  # noqa: PLC0415

    url = scratch_database(f"berth_bench_instructions_{kind}")
    os.environ.update(BERTH_DATABASE_URL=url, BERTH_LOG_LEVEL="WARNING")
    import command_cpu  # noqa: PLC0415

    if kind == "baseline":
        import baseline_app  # noqa: PLC0415 - opens its store on BERTH_DATABASE_URL

        def step(n: int) -> None:
            command_cpu.call(baseline_app.app, "POST", "/save", {"n": n}, {})
    else:
        berth = command_cpu.Berth(url)

        def step(n: int) -> None:
            berth.pair()

    for n in range(WARM_UP + count):
        step(n)


def counted(kind: str, count: int, src: str | None) -> int:
    """The instructions one valgrind run executed."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--inside", kind, "--count", str(count),
        *(["--src", src] if src else []),
    ]  # fmt: skip
    env = dict(os.environ, PYTHONHASHSEED="0")  # the same dict layouts every run
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{kind} x{count} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=100, help="extra hold + confirm pairs")
    parser.add_argument("--against", help="a git revision of Berth to count too")
    parser.add_argument("--inside", choices=["baseline", "berth"], help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--src", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        run_inside(args.inside, args.count, args.src)
        return

    with tempfile.TemporaryDirectory() as scratch:
        rows: list[tuple[str, str, str | None, int]] = [
            ("baseline save", "baseline", None, 1),
            ("berth command, this checkout", "berth", None, 2),
        ]
        if args.against:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.against, "src", "migrations"],
                capture_output=True, check=True,
            )  # fmt: skip
            subprocess.run(["tar", "-x", "-C", scratch], input=archive.stdout, check=True)
            rows.append((f"berth command, at {args.against}", "berth", f"{scratch}/src", 2))
        # Baseline: as many extra saves as Berth's extra requests.
        runs = [
            (label, kind, src, count)
            for label, kind, src, per in rows
            for count in (SHORT * 2 // per, (SHORT + args.pairs) * 2 // per)
        ]
        started = time.monotonic()
        results: dict[tuple[str, int], int] = {}
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {(label, count): pool.submit(counted, kind, count, src)
                       for label, kind, src, count in runs}  # fmt: skip
            for (label, count), future in futures.items():
                results[label, count] = future.result()
                sys.stderr.write(
                    f"  {len(results)}/{len(runs)} runs done ({label}, {count});"
                    f" {time.monotonic() - started:.0f} s\n"
                )

    requests = args.pairs * 2
    print(
        f"\nInstructions per request in this process (valgrind), {requests} requests"
        f" after {SHORT * 2} and a warm-up, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        "| request | instructions | of the baseline's |\n| --- | ---: | ---: |"
    )
    per_request: dict[str, float] = {}
    for label, _, _, per in rows:
        short, long = SHORT * 2 // per, (SHORT + args.pairs) * 2 // per
        per_request[label] = (results[label, long] - results[label, short]) / requests
    for label, each in per_request.items():
        share = each / per_request["baseline save"]
        print(f"| {label} | {each / 1e6:.3f} M | {share:.2f}x |")


if __name__ == "__main__":
    main()
