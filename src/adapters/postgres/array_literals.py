"""Arrays sent to PostgreSQL as their text literals, cast to their type in the statement.

psycopg's list dumper chooses an array's type by looking at each element in Python,
and a new cursor (one per statement) looks again: for the handful of ids and keys a
command's first round trip sends, that was most of the cost of converting the
statement (bench/array_params.py). Integers, UUIDs and ISO dates need no quoting in
a literal.
"""

from collections.abc import Iterable
from datetime import date
from uuid import UUID


def int_array(values: Iterable[int]) -> str:
    """`{1,2,3}`: cast it to `bigint[]` or `int[]` in the statement."""
    return "{" + ",".join([str(int(v)) for v in values]) + "}"


def uuid_array(values: Iterable[UUID]) -> str:
    """`{0b5f...,...}`: cast it to `uuid[]` in the statement."""
    return "{" + ",".join([str(v) for v in values]) + "}"


def date_array(values: Iterable[date]) -> str:
    """`{2026-12-03,...}`: cast it to `date[]` in the statement."""
    return "{" + ",".join([v.isoformat() for v in values]) + "}"
