"""One schema instance per class, shared by requests and threads, carries nothing between them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from uuid import uuid4

import pytest
from marshmallow import ValidationError

from berth.http.schemas.base import shared
from berth.http.schemas.rate_plans import QuoteAnswer, QuoteQuery


def test_one_instance_per_schema_class():
    assert shared(QuoteQuery) is shared(QuoteQuery)
    assert shared(QuoteAnswer) is not shared(QuoteQuery)


def test_a_refused_load_leaves_nothing_for_the_next():
    schema = shared(QuoteQuery)
    bad = {"pool_id": "nope", "arrival": "2030-06-01", "departure": "2030-06-01", "x": "1"}
    with pytest.raises(ValidationError) as first:
        schema.load(bad)
    pool = uuid4()
    loaded = schema.load({"pool_id": str(pool), "arrival": "2030-06-01", "departure": "2030-06-03"})
    assert loaded == {
        "pool_id": pool,
        "arrival": date(2030, 6, 1),
        "departure": date(2030, 6, 3),
        "quantity": 1,
        "rate_plan": "default",
        "min_position": None,
    }
    with pytest.raises(ValidationError) as again:
        schema.load(bad)
    assert again.value.messages == first.value.messages


def test_threads_loading_and_dumping_at_once_each_get_their_own_answer():
    def round_trip(n: int) -> tuple[int, int, str]:
        arrival = date(2030, 1, 1) + timedelta(days=n)
        query = shared(QuoteQuery).load(
            {
                "pool_id": str(uuid4()),
                "arrival": arrival.isoformat(),
                "departure": (arrival + timedelta(days=1 + n % 7)).isoformat(),
                "quantity": str(1 + n % 9),
            }
        )
        nights = [{"night": arrival, "price": n, "remaining": n % 5}]
        answer = shared(QuoteAnswer).dump({"quantity": query["quantity"], "night_prices": nights})
        return (
            answer["quantity"],
            answer["night_prices"][0]["price"],
            answer["night_prices"][0]["night"],
        )

    with ThreadPoolExecutor(8) as threads:
        results = list(threads.map(round_trip, range(2000)))
    expected = [
        (1 + n % 9, n, (date(2030, 1, 1) + timedelta(days=n)).isoformat()) for n in range(2000)
    ]
    assert results == expected
