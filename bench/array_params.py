"""CPU of a command's first round trip's parameters: arrays as lists, or as text literals.

    .venv/bin/python bench/array_params.py [--rounds 5000]

A command's first round trip sends its night locks' keys (bigint[]), the ids and
versions of the aggregates it has cached (uuid[], int[]) and the ids it has not
(uuid[]). Each statement runs on a new cursor, so psycopg looks for each list's
dumper again and inspects every element in Python to choose the array's type;
sent as a text literal (`{1,2,3}`, berth.adapters.postgres.array_literals), an
array is one string, cast in the statement. Reports this process's CPU to convert
each statement with each form (the statement's conversion: what psycopg does
before it sends it), and runs each once to check both forms read the same.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
from psycopg._queries import PostgresQuery
from psycopg.adapt import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from berth.adapters.postgres.array_literals import int_array, uuid_array

KEYS = [-4_611_686_018_427_387_904, 12_345_678_901_234, 9_000_000_000_000_000_000]
IDS = [uuid4() for _ in range(4)]
VERSIONS = [3, 51, 7, 200]
STATEMENTS: dict[str, tuple[str, Callable[[], Any], Callable[[], Any]]] = {
    "night locks: bigint[] of 3": (
        "SELECT k FROM unnest(%s::bigint[]) AS t(k)",
        lambda: (list(KEYS),),
        lambda: (int_array(KEYS),),
    ),
    "new events: uuid[], int[] of 4": (
        "SELECT * FROM unnest(%s::uuid[], %s::int[]) AS w(id, version)",
        lambda: (list(IDS), list(VERSIONS)),
        lambda: (uuid_array(IDS), int_array(VERSIONS)),
    ),
    "whole: uuid[] of 2": (
        "SELECT * FROM unnest(%s::uuid[]) AS u(id)",
        lambda: (IDS[:2],),
        lambda: (uuid_array(IDS[:2]),),
    ),
}


def cpu_per_convert(
    conn: psycopg.Connection[Any], query: str, params: Callable[[], Any], rounds: int
) -> float:
    """Microseconds of CPU to convert the statement with these parameters on a new cursor."""
    encoded = query.encode()
    best = float("inf")
    for _ in range(5):  # the least of five: the machine is shared
        began = time.process_time()
        for _ in range(rounds):
            PostgresQuery(Transformer(conn)).convert(encoded, params())
        best = min(best, time.process_time() - began)
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument(
        "--url", default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="any database: the statements read no table",
    )  # fmt: skip
    args = parser.parse_args()
    with psycopg.connect(args.url, autocommit=True) as conn:
        print("\n| statement | as lists, µs CPU | as text literals, µs CPU |")
        print("| --- | ---: | ---: |", flush=True)
        for name, (query, lists, literals) in STATEMENTS.items():
            if (
                conn.execute(query, lists()).fetchall()
                != conn.execute(query, literals()).fetchall()
            ):
                raise SystemExit(f"{name}: the two forms read different rows")
            sys.stderr.write(f"\r  {name}...  ")
            as_lists = cpu_per_convert(conn, query, lists, args.rounds)
            as_literals = cpu_per_convert(conn, query, literals, args.rounds)
            sys.stderr.write("\r" + " " * 60 + "\r")
            print(f"| {name} | {as_lists:.1f} | {as_literals:.1f} |", flush=True)


if __name__ == "__main__":
    main()
