"""The catalogue reads every event of facilities, pools, gates and cameras: each moves a version."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from berth.domain.camera import Camera
from berth.domain.facility import Facility
from berth.domain.gate import Gate
from berth.domain.pool import Pool
from berth.projections import catalogue


def test_every_event_of_the_four_aggregates_is_read() -> None:
    for aggregate in (Facility, Pool, Gate, Camera):
        declared = [
            value for value in vars(aggregate).values()
            if isinstance(value, type) and issubclass(value, AggregateEvent)
        ]  # fmt: skip
        assert declared, aggregate
        for cls in declared:
            assert get_topic(cls) in catalogue.TOPICS, cls.__qualname__


def test_an_event_whose_fields_it_does_not_show_still_moves_the_version() -> None:
    event = Pool.CapacityChanged(
        originator_id=uuid4(), originator_version=4, timestamp=datetime(2030, 1, 1, tzinfo=UTC),
        cause={}, first_night=datetime(2030, 1, 1).date(), last_night=datetime(2030, 1, 2).date(),
        capacity=3,
    )  # fmt: skip
    [operation] = catalogue.operations(17, event)
    assert operation.kind == "pool_touched"
    assert (operation.params["version"], operation.params["position"]) == (4, 17)
