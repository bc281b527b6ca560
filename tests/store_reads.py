"""Counting the reads of events or snapshots that go to the database, in a test."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.postgres import PostgresAggregateRecorder


def store_reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every read of events or snapshots that goes to the database (a round trip),
    by the id it reads: the list grows as they happen."""
    reads: list[object] = []
    select = PostgresAggregateRecorder.select_events

    def counted(self: PostgresAggregateRecorder, originator_id: Any, **kwargs: Any) -> Any:
        reads.append(originator_id)
        return select(self, originator_id, **kwargs)

    monkeypatch.setattr(PostgresAggregateRecorder, "select_events", counted)
    return reads
