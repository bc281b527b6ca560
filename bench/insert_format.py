"""CPU of the event store's insert, its rows sent as text (the library's) or in binary (Berth's).

    .venv/bin/python bench/insert_format.py [--rounds 300]

Inserts three rows per statement, as a hold writes them, at several state sizes
(a few hundred bytes: an event; tens to hundreds of kilobytes: a busy night's
snapshot), with each format in turn, into a scratch copy of the event store's
snapshots table. Reports this process's CPU per insert, which is where the
formats differ: as text, psycopg writes each state in hex and escapes it twice in
Python.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from uuid import uuid4

import psycopg
from psycopg.sql import SQL, Identifier
from psycopg.types.composite import CompositeInfo, register_composite

sys.path.insert(0, str(Path(__file__).parent))

from common import scratch_database

SIZES = (300, 3_000, 30_000, 300_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    url = scratch_database("berth_bench_insert_format")
    with psycopg.connect(url, autocommit=True) as conn:
        info = CompositeInfo.fetch(conn, "public.stored_event_uuid")
        if info is None:
            raise SystemExit("no composite type public.stored_event_uuid: is the store migrated?")
        register_composite(info, conn)
        row = info.python_type
        print("\n| state bytes | text: CPU ms per insert | binary: CPU ms per insert |")
        print("| ---: | ---: | ---: |")
        for size in SIZES:
            rounds = max(args.rounds * 300 // size, 10) if size > 3_000 else args.rounds
            cpu = {}
            state = os.urandom(size // 2).hex().encode()  # JSON-like: printable
            for placeholder in ("%s", "%b"):
                statement = SQL(
                    "INSERT INTO public.berth_snapshots (originator_id, originator_version,"
                    " topic, state) SELECT * FROM unnest(" + placeholder + "::{}.{}[])"
                ).format(Identifier("public"), Identifier("stored_event_uuid"))
                began = time.process_time()
                for n in range(rounds):
                    rows = [row(uuid4(), 1, "bench:Event", state) for _ in range(3)]
                    conn.execute(statement, (rows,))
                    if n % 50 == 0:
                        sys.stderr.write(f"\r  {size:,} bytes, {placeholder}: {n}/{rounds}  ")
                cpu[placeholder] = (time.process_time() - began) / rounds * 1000
            sys.stderr.write("\n")
            print(f"| {size:,} | {cpu['%s']:.3f} | {cpu['%b']:.3f} |")


if __name__ == "__main__":
    main()
