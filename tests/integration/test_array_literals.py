"""Arrays sent as text literals (berth.adapters.postgres.array_literals) read as the lists."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.adapters.postgres.array_literals import date_array, int_array, uuid_array

BIGINTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def test_integers_ids_and_dates_read_back_as_the_lists_they_were(db_url: str):
    with psycopg.connect(db_url, autocommit=True) as conn:

        @settings(max_examples=200, deadline=None)
        @given(
            st.lists(BIGINTS, max_size=20),
            st.lists(st.uuids(), max_size=20),
            st.lists(st.dates(), max_size=20),
        )
        def check(keys: list[int], ids: list[UUID], days: list[date]) -> None:
            row = conn.execute(
                "SELECT %s::bigint[], %s::uuid[], %s::date[]",
                (int_array(keys), uuid_array(ids), date_array(days)),
            ).fetchone()
            assert row == (keys, ids, days)

        check()


def test_a_literal_keeps_the_order_it_was_given_in(db_url: str):
    keys = [3, -1, 2**63 - 1, 0, -(2**63)]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT k FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n",
            (int_array(keys),),
        ).fetchall()
    assert [k for (k,) in rows] == keys
    assert int_array([True, 2]) == "{1,2}"  # a bool is its integer, not "True"
